import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend-selection.js';
import { imageContentHash } from '../backbones/embeddings.js';
import { EmbeddingHead } from '../inference/embedding-head.js';
import { loadModel } from '../inference/loaded-model.js';
import type { RawImage } from '../images/image-decoding.js';
import { SeededRandom } from '../random/seeded-random.js';
import { tinyBackboneClassifierConfig } from '../testing/tiny-backbone.js';
import { barsImage } from '../testing/synthetic-images.js';
import { train } from './training-loop.js';
import type { TrainingDataset } from './training-types.js';

/** Horizontal bars, vertical bars, or both (a grid: the darker of the two pictures), at 40 px. */
function picture(horizontal: boolean, vertical: boolean, random: SeededRandom): RawImage {
  const across = barsImage('horizontal', 40, random);
  if (!vertical) return across;
  const down = barsImage('vertical', 40, random);
  if (!horizontal) return down;
  return { ...across, pixels: across.pixels.map((value, index) => Math.min(value, down.pixels[index])) };
}

describe('training a multilabel head on a frozen backbone', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('learns a sigmoid probability per label on the embeddings, independent of the others', async () => {
    const random = new SeededRandom(5);
    // Each picture has one orientation or both; never neither.
    const kinds = [
      { horizontal: true, vertical: false, labels: [0] },
      { horizontal: false, vertical: true, labels: [1] },
      { horizontal: true, vertical: true, labels: [0, 1] },
    ];
    const dataset: TrainingDataset = {
      task: 'multilabel',
      labels: ['horizontal', 'vertical'],
      examples: Array.from({ length: 36 }, (_, index) => {
        const kind = kinds[index % 3];
        return { image: picture(kind.horizontal, kind.vertical, random), labels: kind.labels };
      }),
    };
    const result = await train(dataset, await tinyBackboneClassifierConfig(12));

    expect(result.architecture).toBe('backbone-classifier');
    if (result.validation?.task !== 'multilabel') throw new Error('expected multilabel validation results');
    expect(result.validation.metrics.map).toBeGreaterThanOrEqual(0.9);
    expect(result.validation.expected).toEqual(
      result.validation.exampleIndexes.map((index) => dataset.examples[index].labels),
    );

    const model = await loadModel(result.model, { backend: 'cpu' });
    const head = await EmbeddingHead.load(result.model);
    try {
      expect(model.task).toBe('multilabel');
      const probabilities = async (image: RawImage) =>
        Object.fromEntries((await model.predict(image)).map((p) => [p.label, p.probability]));
      const grid = await probabilities(picture(true, true, random));
      expect(grid.horizontal).toBeGreaterThan(0.5);
      expect(grid.vertical).toBeGreaterThan(0.5);
      // Not a softmax: both may be near 1 together.
      expect(grid.horizontal + grid.vertical).toBeGreaterThan(1);
      const across = await probabilities(picture(true, false, random));
      expect(across.horizontal).toBeGreaterThan(0.5);
      expect(across.vertical).toBeLessThan(0.5);

      // The head alone gives the same probabilities from a cached embedding (what test runs on photos reuse).
      const [validationIndex] = result.validation.exampleIndexes;
      const [embedding] = head.predict([
        result.embeddings!.vectors.get(imageContentHash(dataset.examples[validationIndex].image))!.get('identity')!,
      ]);
      const whole = await model.predict(dataset.examples[validationIndex].image);
      for (const prediction of whole)
        expect(embedding.find((p) => p.label === prediction.label)!.probability).toBeCloseTo(prediction.probability, 4);
    } finally {
      head.dispose();
      model.dispose();
    }
  });
});
