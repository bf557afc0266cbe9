import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../backend/backend-selection.js';
import type { SerializedModel } from '../models/model-serialization.js';
import type { KerasModelFile } from './keras-file.js';
import { KerasImportError } from './keras-import.error.js';
import { toTfjsTopology } from './keras-topology.js';

/** What a Keras file does not say and the importer does: class names in output order, and the pixel range its input expects. */
export interface KerasModelDescription {
  labels: string[];
  /** Pixels [0, 255] are mapped linearly to this range before the model sees them. */
  inputRange: [number, number];
}

const WEIGHTS_FILE = 'weights.bin';

const sameShape = (a: readonly (number | null)[], b: readonly number[]) =>
  a.length === b.length && a.every((size, index) => size === b[index]);

/** Gives every layer of the built model its arrays from the file, checked against the shapes the layer expects. */
function loadWeights(model: tfl.LayersModel, weights: KerasModelFile['weights']): void {
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const arrays = weights.get(layer.name);
    if (!arrays || arrays.length !== layer.weights.length) {
      throw new KerasImportError(
        'KERAS_MODEL_INVALID',
        `Layer "${layer.name}" (${layer.getClassName()}) has ${layer.weights.length} weight arrays; the file holds ${arrays?.length ?? 0} for it.`,
        { layerName: layer.name },
      );
    }
    const tensors = arrays.map((array, index) => {
      const expected = layer.weights[index].shape;
      if (!sameShape(expected, array.shape)) {
        throw new KerasImportError(
          'KERAS_MODEL_INVALID',
          `Weight ${index} of layer "${layer.name}" has shape [${array.shape.join(', ')}]; the layer needs [${expected.join(', ')}].`,
          { layerName: layer.name },
        );
      }
      return tf.tensor(array.values, array.shape, 'float32');
    });
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
}

/**
 * A Keras model (read by readKerasH5 or readKerasZip) as a TensorFlow.js layers model with a metadata.json
 * naming its labels and input range, the form the model import checks and diyml stores.
 */
export async function convertKerasModel(
  file: KerasModelFile,
  description: KerasModelDescription,
): Promise<SerializedModel & { weights: Uint8Array }> {
  const topology = toTfjsTopology(file.config);
  await selectBackend();
  let model: tfl.LayersModel;
  try {
    model = await tfl.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
  } catch (error) {
    throw new KerasImportError(
      'KERAS_MODEL_INVALID',
      `The model configuration cannot be built: ${(error as Error).message}.`,
    );
  }
  try {
    loadWeights(model, file.weights);
    let captured: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        captured = artifacts;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
    if (!captured?.weightSpecs || captured.weightData === undefined)
      throw new KerasImportError('KERAS_MODEL_INVALID', 'The model has no weights.');
    const modelJson = {
      format: 'layers-model',
      generatedBy: `diyml keras import (${file.format})`,
      convertedBy: null,
      modelTopology: captured.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: captured.weightSpecs }],
    };
    return {
      modelJson: JSON.stringify(modelJson),
      weights: new Uint8Array(tf.io.CompositeArrayBuffer.join(captured.weightData)),
      metadataJson: JSON.stringify({
        labels: description.labels,
        inputRange: description.inputRange,
        source: file.format,
      }),
    };
  } finally {
    model.dispose();
  }
}
