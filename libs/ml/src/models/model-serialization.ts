import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { InputSpec } from './model-input.js';

/** multilabel: a classification model with one independent (sigmoid) probability per label. */
export type Task = 'classification' | 'multilabel' | 'detection';

/**
 * A model in TensorFlow.js layers format: the text of model.json and the bytes of its weight file(s).
 * `weights` is either the single weights.bin or every file named in the manifest, by path.
 */
export interface SerializedModel {
  modelJson: string;
  weights: Uint8Array | Record<string, Uint8Array>;
  /** Teachable Machine exports carry labels and image size in a separate metadata.json. */
  metadataJson?: string;
}

/** What diyml stores in model.json's userDefinedMetadata, so a model file explains itself. */
export interface ModelMetadata extends InputSpec {
  format: 'diyml';
  version: 1;
  architecture: string;
  task: Task;
  labels: string[];
}

const WEIGHTS_FILE = 'weights.bin';

/** Captures a LayersModel's artifacts in memory (no file system) as model.json text plus one weights file. */
export async function serializeModel(
  model: tfl.LayersModel,
  metadata: ModelMetadata,
): Promise<SerializedModel & { weights: Uint8Array }> {
  model.setUserDefinedMetadata({ diyml: metadata });
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (!captured?.weightSpecs || captured.weightData === undefined) throw new Error('model produced no weights to save');
  const modelJson = {
    format: captured.format,
    generatedBy: captured.generatedBy,
    convertedBy: captured.convertedBy,
    modelTopology: captured.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: captured.weightSpecs }],
    userDefinedMetadata: captured.userDefinedMetadata,
  };
  return {
    modelJson: JSON.stringify(modelJson),
    weights: new Uint8Array(tf.io.CompositeArrayBuffer.join(captured.weightData)),
  };
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  userDefinedMetadata?: { diyml?: ModelMetadata };
}

function concatenate(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

function weightBytes(manifest: ModelJson['weightsManifest'], weights: SerializedModel['weights']): Uint8Array {
  if (weights instanceof Uint8Array) return weights;
  const paths = manifest.flatMap((group) => group.paths);
  return concatenate(
    paths.map((path) => {
      const file = weights[path] ?? weights[path.split('/').pop() ?? path];
      if (!file) throw new Error(`weight file ${path} named in model.json is missing`);
      return file;
    }),
  );
}

export interface DeserializedModel {
  model: tfl.LayersModel;
  /** diyml's metadata, absent for models trained elsewhere. */
  metadata?: ModelMetadata;
  json: ModelJson;
}

/** Loads a LayersModel from its artifacts. The caller owns (and disposes) the returned model. */
export async function deserializeModel(serialized: SerializedModel): Promise<DeserializedModel> {
  const json = JSON.parse(serialized.modelJson) as ModelJson;
  if (!json.modelTopology || !Array.isArray(json.weightsManifest))
    throw new Error('model.json needs modelTopology and weightsManifest (tfjs layers format)');
  const bytes = weightBytes(json.weightsManifest, serialized.weights);
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
  };
  const model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  return { model, metadata: json.userDefinedMetadata?.diyml, json };
}
