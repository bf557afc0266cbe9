import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { SeededRandom, selectBackend, train, type TrainingConfig, type TrainingDataset } from '@diyml/ml';
import { barsDataset } from '@diyml/ml/testing/synthetic-images.js';
import { tinyBackboneClassifierConfig } from '@diyml/ml/testing/tiny-backbone.js';
import { packModel } from '@diyml/training/pure';
import {
  predictionThreads,
  PredictionCancelled,
  predictFromEmbeddingsOnThread,
  predictOnThread,
  TestRunInputError,
} from './test-run-thread.js';

const options = { threshold: 0, maxResults: 2 };

async function trainedZip(dataset: TrainingDataset, config: Partial<TrainingConfig>): Promise<Uint8Array> {
  const { model } = await train(dataset, config);
  return packModel(model as typeof model & { weights: Uint8Array });
}

/** The dataset's images as PNG files, as a test run receives them. */
function pngs(dataset: TrainingDataset): Promise<Uint8Array[]> {
  return Promise.all(
    dataset.examples.map(async ({ image }) => {
      const { pixels, width, height, channels } = image as {
        pixels: Uint8Array;
        width: number;
        height: number;
        channels: 3;
      };
      return new Uint8Array(await sharp(pixels, { raw: { width, height, channels } }).png().toBuffer());
    }),
  );
}

describe('prediction threads are reused', () => {
  let smallCnn: Uint8Array;
  let images: Uint8Array[];

  beforeAll(async () => {
    await selectBackend();
    smallCnn = await trainedZip(barsDataset(16, 2), { imageSize: 16, epochs: 1, batchSize: 8, seed: 3 });
    images = await pngs(barsDataset(12, 9));
  });
  afterAll(() => predictionThreads.closeIdle());

  it('predicts the same on a reused thread as on a fresh one, from images and from embeddings', async () => {
    const backboneClassifier = await trainedZip(barsDataset(16, 5), await tinyBackboneClassifierConfig(1));
    const random = new SeededRandom(4);
    // The tiny backbone's embedding layer has 16 channels.
    const embeddings = () => Array.from({ length: 6 }, () => Float32Array.from({ length: 16 }, () => random.next()));
    const vectors = embeddings();
    const both = async () => ({
      fromImages: (await predictOnThread(smallCnn, images, options)).predictions,
      fromEmbeddings: (await predictFromEmbeddingsOnThread(backboneClassifier, vectors, options)).predictions,
    });

    await predictionThreads.closeIdle();
    const startedBefore = predictionThreads.started;
    const fresh = await both();
    const reused = await both();
    // Four runs on the one thread started for the first.
    expect(predictionThreads.started).toBe(startedBefore + 1);
    await predictionThreads.closeIdle();
    const inNewThread = await both();
    expect(predictionThreads.started).toBe(startedBefore + 2);

    expect(fresh.fromImages).toHaveLength(images.length);
    expect(fresh.fromEmbeddings).toHaveLength(vectors.length);
    expect(reused).toEqual(fresh);
    expect(inNewThread).toEqual(fresh);
  });

  it('closes the thread of a cancelled or failed run, and a late cancel does not reach the next run', async () => {
    const first = await predictOnThread(smallCnn, images, options);
    const startedBefore = predictionThreads.started;
    const late = new AbortController();
    await predictOnThread(smallCnn, images, options, late.signal);
    // The run is over: aborting now leaves its thread, which serves the next run, alone.
    const next = predictOnThread(smallCnn, images, options);
    late.abort();
    expect((await next).predictions).toEqual(first.predictions);
    expect(predictionThreads.started).toBe(startedBefore);

    const cancellation = new AbortController();
    const cancelled = predictOnThread(smallCnn, images, options, cancellation.signal);
    cancellation.abort();
    await expect(cancelled).rejects.toBeInstanceOf(PredictionCancelled);
    expect((await predictOnThread(smallCnn, images, options)).predictions).toEqual(first.predictions);
    expect(predictionThreads.started).toBe(startedBefore + 1);

    await expect(predictOnThread(new Uint8Array([1, 2, 3]), images, options)).rejects.toBeInstanceOf(TestRunInputError);
    expect((await predictOnThread(smallCnn, images, options)).predictions).toEqual(first.predictions);
    expect(predictionThreads.started).toBe(startedBefore + 2);
  });
});
