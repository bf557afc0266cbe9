import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { SerializedModel } from '../models/model-serialization.js';

/** A layer whose activations serve as features: its name in the model, its stride and its channel count. */
export interface FeatureLayer {
  name: string;
  /** Input pixels per feature-map cell (8, 16, 32…). */
  stride: number;
  channels: number;
}

/** Where a backbone's weights come from. None of them is copied into this repository. */
export type WeightSource =
  /** tfjs layers files shipped inside an installed npm package (model.json and shards, possibly wrapped as UMD .min.js). */
  | { kind: 'npm-package'; package: string; directory: string; modelFile: string; wrapped: boolean }
  /**
   * A tfjs layers model.json and its weight files fetched once from `url` into `DATA_DIR/backbones`;
   * `sha256` names every file (model.json and each shard) with its expected hash.
   */
  | { kind: 'url'; url: string; sha256: Record<string, string> }
  /** A model at hand (a user-imported or completed iteration, a generated test model); plain data, so it crosses threads. */
  | { kind: 'model'; model: SerializedModel };

export interface BackboneDescriptor {
  id: string;
  description: string;
  licence: string;
  /** Side of the square input in pixels. */
  inputSize: number;
  /** Pixel values map linearly from [0, 255] to this range. */
  inputRange: [number, number];
  /** Layers worth reading features from, shallow to deep. */
  featureLayers: FeatureLayer[];
  /** The layer whose pooled activations make the classification embedding. */
  embeddingLayer: string;
  /**
   * Fine-tuning: the layers the last 1, 2, … blocks before `embeddingLayer` start from (each the only input of
   * everything after it up to the embedding layer). Absent: the backbone is never fine-tuned.
   */
  fineTuneStarts?: string[];
  source: WeightSource;
}

/**
 * A fast frozen forward pass, swappable for tfjs: `batch` is `n` images in the backbone's input layout and range
 * (NHWC float32), the result one flat Float32Array per requested layer, in order, each holding the whole batch.
 */
export interface FeatureRunner {
  run(batch: Float32Array, n: number): Promise<Float32Array[]>;
  dispose(): void;
}

/** Builds a runner for `model` cut at `outputLayers` (e.g. an onnxruntime session); tfjs is used when absent. */
export type FeatureRunnerFactory = (model: tfl.LayersModel, outputLayers: string[]) => Promise<FeatureRunner>;

export interface Backbone {
  readonly descriptor: BackboneDescriptor;
  /** The loaded model, frozen (every layer non-trainable). Owned by the backbone: `dispose` releases it. */
  readonly model: tfl.LayersModel;
  /** The symbolic output of a feature layer, for building a model (a head, an exportable whole) on top. */
  layerOutput(name: string): tfl.SymbolicTensor;
  /** Feature maps of a batch [n, size, size, 3] (in the input range) at the named layers; the caller disposes them. */
  featureMaps(batch: tf.Tensor4D, layers: readonly string[]): tf.Tensor4D[];
  /** A runner for repeated frozen forward passes at the named layers (the configured fast runtime, or tfjs). */
  createRunner(layers: readonly string[]): Promise<FeatureRunner>;
  dispose(): void;
}

/** Why a backbone cannot be used: a stable code and a message saying what to fix. */
export type BackboneErrorCode =
  | 'UNKNOWN_BACKBONE'
  | 'BACKBONE_WEIGHTS_MISSING'
  | 'BACKBONE_CHECKSUM_MISMATCH'
  | 'BACKBONE_DOWNLOAD_FAILED'
  | 'BACKBONE_INVALID';

export class BackboneError extends Error {
  constructor(
    readonly code: BackboneErrorCode,
    message: string,
    readonly backbone: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BackboneError';
  }
}
