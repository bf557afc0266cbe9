import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend-selection.js';
import { imageContentHash } from '../backbones/embeddings.js';
import { SeededRandom } from '../random/seeded-random.js';
import { tinyBackboneDescriptor, tinyBackboneModel } from '../testing/tiny-backbone.js';
import { barsImage } from '../testing/synthetic-images.js';
import { train } from '../training/training-loop.js';
import { EmbeddingHead } from './embedding-head.js';
import { loadModel } from './loaded-model.js';

describe('predicting from cached embeddings with the head of a backbone classifier', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('gives the probabilities the whole model gives from the images', async () => {
    const random = new SeededRandom(3);
    const examples = Array.from({ length: 24 }, (_, i) => ({
      image: barsImage(i % 2 === 0 ? 'horizontal' : 'vertical', 40, random),
      label: i % 2,
    }));
    const backbone = tinyBackboneDescriptor('tiny', { kind: 'model', model: await tinyBackboneModel() });
    const result = await train(
      { task: 'classification', labels: ['horizontal', 'vertical'], examples },
      {
        architecture: 'backbone-classifier',
        backbone,
        epochs: 3,
        seed: 2,
        backend: 'wasm',
        augmentation: false,
        validationSplit: 0,
      },
    );
    const images = examples.slice(0, 6).map((example) => example.image);
    const embeddings = images.map((image) => result.embeddings!.vectors.get(imageContentHash(image))!.get('identity')!);

    const head = await EmbeddingHead.load(result.model);
    const model = await loadModel(result.model, { backend: 'wasm', runtime: 'tfjs' });
    try {
      const fromEmbeddings = head.predict(embeddings);
      const fromImages = await model.predictBatch(images);
      expect(fromEmbeddings.map((predictions) => predictions.map((p) => p.label))).toEqual(
        fromImages.map((predictions) => predictions.map((p) => p.label)),
      );
      fromEmbeddings.forEach((predictions, index) =>
        expect(predictions[0].probability).toBeCloseTo(fromImages[index][0].probability, 4),
      );
      expect(() => head.predict([new Float32Array(head.dimension + 1)])).toThrow(/takes/);
    } finally {
      head.dispose();
      model.dispose();
    }
  });

  it('refuses a model that is not a backbone classifier', async () => {
    const random = new SeededRandom(4);
    const examples = Array.from({ length: 8 }, (_, i) => ({
      image: barsImage(i % 2 === 0 ? 'horizontal' : 'vertical', 16, random),
      label: i % 2,
    }));
    const result = await train(
      { task: 'classification', labels: ['horizontal', 'vertical'], examples },
      { architecture: 'small-cnn', imageSize: 16, epochs: 1, seed: 1, backend: 'wasm', validationSplit: 0 },
    );
    await expect(EmbeddingHead.load(result.model)).rejects.toThrow(/backbone-classifier/);
  });
});
