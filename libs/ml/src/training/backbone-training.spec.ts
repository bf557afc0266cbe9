import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/backend-selection.js';
import { decodeEmbeddingTable, encodeEmbeddingTable } from '../backbones/embeddings.js';
import { loadModel } from '../inference/loaded-model.js';
import { deserializeModel } from '../models/model-serialization.js';
import { SeededRandom } from '../random/seeded-random.js';
import { tinyBackboneClassifierConfig, tinyBackboneModel } from '../testing/tiny-backbone.js';
import { barsDataset, barsImage, type Rgb, squareScene } from '../testing/synthetic-images.js';
import { train } from './training-loop.js';
import type { TrainingConfig, TrainingDataset, TrainingResult } from './training-types.js';
import type { SerializedModel } from '../models/model-serialization.js';

function accuracyOf(result: TrainingResult): number {
  if (result.validation?.task !== 'classification') throw new Error('expected classification validation results');
  return result.validation.metrics.accuracy;
}

describe('training a head on a frozen backbone', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('learns from embeddings of augmented views and saves one model that predicts from an image', async () => {
    const dataset = barsDataset(40, 1);
    const result = await train(dataset, await tinyBackboneClassifierConfig(4));

    expect(result.architecture).toBe('backbone-classifier');
    expect(accuracyOf(result)).toBeGreaterThanOrEqual(0.85);
    // 32 training images in 4 views (plain, mirror, zoom, zoomed mirror), 8 validation images plain.
    expect(result.embeddings?.computed).toBe(32 * 4 + 8);
    expect([...result.embeddings!.vectors.values()][0].size).toBeGreaterThanOrEqual(1);
    expect(result.embeddings?.space).toEqual({
      backbone: 'tiny',
      layer: 'stage_2',
      preprocessing: 'resize-32-fill-range-0..1-avgpool',
    });

    const model = await loadModel(result.model, { backend: 'cpu' });
    try {
      expect(model.inputSpec).toEqual({
        imageSize: { width: 32, height: 32 },
        channels: 3,
        fit: 'resize',
        inputRange: [0, 1],
      });
      const random = new SeededRandom(77);
      const fresh = [
        barsImage('vertical', 40, random),
        barsImage('horizontal', 40, random),
        barsImage('vertical', 48, random),
        barsImage('horizontal', 48, random),
      ];
      const labels = await Promise.all(fresh.map(async (image) => (await model.predict(image))[0].label));
      expect(labels).toEqual(['vertical', 'horizontal', 'vertical', 'horizontal']);
      // The saved model folds the standardisation in: it gives the validation probabilities from pixels alone.
      const validation = result.validation as { exampleIndexes: number[]; probabilities: number[][] };
      const first = await model.predict(dataset.examples[validation.exampleIndexes[0]].image);
      const probability = first.find((prediction) => prediction.labelIndex === 0)!.probability;
      expect(probability).toBeCloseTo(validation.probabilities[0][0], 4);
    } finally {
      model.dispose();
    }
  });

  it('reuses cached embeddings, and a run from its own cache gives the same model byte for byte', async () => {
    const dataset = barsDataset(24, 2);
    const config = await tinyBackboneClassifierConfig(4);
    const first = await train(dataset, config);
    const cached = decodeEmbeddingTable(encodeEmbeddingTable(first.embeddings!));
    const again = await train(dataset, { ...config, embeddings: [cached] });

    expect(again.embeddings).toMatchObject({ computed: 0, reused: first.embeddings!.computed });
    expect(again.model.modelJson).toBe(first.model.modelJson);
    expect(Buffer.from(again.model.weights).equals(Buffer.from(first.model.weights))).toBe(true);
    expect(again.validation).toEqual(first.validation);
  });

  it('ignores cached embeddings of another backbone layer', async () => {
    const dataset = barsDataset(12, 3);
    const config = await tinyBackboneClassifierConfig(4);
    const first = await train(dataset, { ...config, augmentation: false });
    const otherLayer = { ...first.embeddings!, space: { ...first.embeddings!.space, layer: 'stage_3' } };
    const again = await train(dataset, { ...config, augmentation: false, embeddings: [otherLayer] });
    expect(again.embeddings?.computed).toBe(12);
  });

  it('fine-tunes the backbone block before the embedding layer, saves it inside the model, and releases every tensor it made', async () => {
    const dataset = barsDataset(16, 4);
    const config = { ...(await tinyBackboneClassifierConfig(4)), fineTune: 1, epochs: 1, augmentation: false };
    // Fine-tuning is most of this file's time (8 s of CPU a run): the one run is also the tensor-leak check.
    const tensorsBefore = tf.memory().numTensors;
    const result = await train(dataset, config);
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    const kernel = async (model: SerializedModel, layer: string) => {
      const { model: loaded } = await deserializeModel(model);
      const values = Array.from(loaded.getLayer(layer).getWeights()[0].dataSync());
      loaded.dispose();
      return values;
    };
    const pretrained = await tinyBackboneModel();
    // Only stage_2 (from stage_1's output to the embedding layer) was trained; stage_1 stayed as it was.
    expect(await kernel(result.model, 'stage_1')).toEqual(await kernel(pretrained, 'stage_1'));
    expect(await kernel(result.model, 'stage_2')).not.toEqual(await kernel(pretrained, 'stage_2'));

    // The saved model (fine-tuned block, pooling, head with the standardisation folded in) predicts as validation did.
    const model = await loadModel(result.model, { backend: 'cpu' });
    try {
      const validation = result.validation as { exampleIndexes: number[]; probabilities: number[][] };
      const first = await model.predict(dataset.examples[validation.exampleIndexes[0]].image);
      expect(first.find((prediction) => prediction.labelIndex === 0)!.probability).toBeCloseTo(
        validation.probabilities[0][0],
        4,
      );
    } finally {
      model.dispose();
    }
  }, 120_000);

  it('refuses to fine-tune more blocks than the backbone offers', async () => {
    await expect(train(barsDataset(8, 5), { ...(await tinyBackboneClassifierConfig(4)), fineTune: 2 })).rejects.toThrow(
      "backbone 'tiny' can fine-tune 1 to 1 blocks, not 2",
    );
  });

  it.each<[string, () => TrainingDataset, Partial<TrainingConfig>]>([
    ['a head', () => barsDataset(16, 6), { epochs: 1 }],
    [
      'a detector',
      () => {
        const random = new SeededRandom(6);
        const colours: Rgb[] = [
          [220, 30, 30],
          [30, 30, 220],
        ];
        return {
          task: 'detection',
          labels: ['red', 'blue'],
          examples: Array.from({ length: 12 }, () => squareScene(colours, 32, random)),
        };
      },
      { architecture: 'backbone-detector', epochs: 1 },
    ],
  ])('releases every tensor it made when training %s on the backbone', async (_, dataset, overrides) => {
    const config = { ...(await tinyBackboneClassifierConfig(1)), ...overrides };
    const tensorsBefore = tf.memory().numTensors;
    await train(dataset(), config);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
