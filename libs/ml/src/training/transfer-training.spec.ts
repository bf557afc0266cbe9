import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { getArchitecture } from '../architectures/architecture-registry.js';
import { selectBackend } from '../backend/backend-selection.js';
import { loadModel } from '../inference/loaded-model.js';
import { deserializeModel, serializeModel, type SerializedModel } from '../models/model-serialization.js';
import { SeededRandom } from '../random/seeded-random.js';
import { colouredSquareImage, type Rgb } from '../testing/synthetic-images.js';
import { train } from './training-loop.js';
import type { ClassificationValidation, TrainingDataset, TrainingResult } from './training-types.js';

const COLOURS: Rgb[] = [
  [220, 30, 30],
  [30, 190, 30],
  [30, 30, 220],
];

/** An untrained small CNN saved as a plain tfjs model (no diyml metadata), standing in for an imported model. */
async function foreignBaseModel(): Promise<SerializedModel & { weights: Uint8Array }> {
  await selectBackend();
  const built = await getArchitecture('small-cnn').build({
    imageSize: { width: 16, height: 16 },
    channels: 3,
    labelCount: 5,
    seed: 8,
  });
  const serialized = await serializeModel(built.model, {
    format: 'diyml',
    version: 1,
    architecture: 'small-cnn',
    task: 'classification',
    labels: [],
    imageSize: built.imageSize,
    channels: 3,
    fit: 'resize',
    inputRange: [0, 1],
  });
  built.model.dispose();
  const json = JSON.parse(serialized.modelJson);
  delete json.userDefinedMetadata;
  return { ...serialized, modelJson: JSON.stringify(json) };
}

async function layerWeights(serialized: SerializedModel, layerName: string): Promise<number[]> {
  const { model } = await deserializeModel(serialized);
  const values = Array.from(model.getLayer(layerName).getWeights()[0].dataSync());
  model.dispose();
  return values;
}

function classificationValidation(result: TrainingResult): ClassificationValidation {
  if (result.validation?.task !== 'classification') throw new Error('expected classification validation results');
  return result.validation;
}

describe('transfer learning', () => {
  it('trains a new head on a frozen imported model', async () => {
    const baseModel = await foreignBaseModel();
    const random = new SeededRandom(21);
    const dataset: TrainingDataset = {
      task: 'classification',
      labels: ['red', 'green', 'blue'],
      examples: Array.from({ length: 150 }, (_, i) => ({
        image: colouredSquareImage(COLOURS[i % 3], 32, random),
        label: i % 3,
      })),
    };
    const tensorsBefore = tf.memory().numTensors;
    const result = await train(dataset, {
      architecture: 'transfer',
      baseModel,
      epochs: 60,
      batchSize: 16,
      learningRate: 0.05,
      seed: 1,
    });
    // A long-lived worker trains many models: nothing may stay behind in the backend.
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    expect(classificationValidation(result).metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    // The base keeps its weights: only the new head was trained.
    expect(await layerWeights(result.model, 'conv1')).toEqual(await layerWeights(baseModel, 'conv1'));
    expect(JSON.parse(result.model.modelJson).userDefinedMetadata.diyml).toMatchObject({
      architecture: 'transfer',
      imageSize: { width: 16, height: 16 },
    });

    const model = await loadModel(result.model);
    try {
      const [best] = await model.predict(colouredSquareImage(COLOURS[1], 40, new SeededRandom(3)));
      expect(best.label).toBe('green');
    } finally {
      model.dispose();
    }
  });

  it('refuses to build without a base model', async () => {
    await expect(
      getArchitecture('transfer').build({ imageSize: { width: 8, height: 8 }, channels: 3, labelCount: 2, seed: 1 }),
    ).rejects.toThrow('needs a base model');
  });

  it('loads a model trained elsewhere with labels and input range from Teachable Machine metadata', async () => {
    await selectBackend();
    const input = tfl.input({ shape: [4, 4, 3] });
    const mean = tfl.layers.globalAveragePooling2d({}).apply(input) as tfl.SymbolicTensor;
    // Weights that pick the red channel for "red" and the blue channel for "blue".
    const dense = tfl.layers.dense({
      units: 2,
      activation: 'softmax',
      weights: [
        tf.tensor2d([
          [20, 0],
          [0, 0],
          [0, 20],
        ]),
        tf.tensor1d([0, 0]),
      ],
    });
    const classifier = tfl.model({ inputs: input, outputs: dense.apply(mean) as tfl.SymbolicTensor });
    const serialized = await serializeModel(classifier, {
      format: 'diyml',
      version: 1,
      architecture: 'imported',
      task: 'classification',
      labels: [],
      imageSize: { width: 4, height: 4 },
      channels: 3,
      fit: 'resize',
      inputRange: [0, 1],
    });
    classifier.dispose();
    const json = JSON.parse(serialized.modelJson);
    delete json.userDefinedMetadata;
    const metadataJson = JSON.stringify({
      packageName: '@teachablemachine/image',
      labels: ['red', 'blue'],
      imageSize: 4,
    });

    const model = await loadModel({
      modelJson: JSON.stringify(json),
      weights: { 'weights.bin': serialized.weights },
      metadataJson,
    });
    try {
      expect(model.labels).toEqual(['red', 'blue']);
      expect(model.inputSpec.inputRange).toEqual([-1, 1]);
      const red = {
        pixels: new Uint8Array(4 * 4 * 3).map((_, i) => (i % 3 === 0 ? 255 : 0)),
        width: 4,
        height: 4,
        channels: 3 as const,
      };
      expect((await model.predict(red))[0].label).toBe('red');
    } finally {
      model.dispose();
    }
  });
});
