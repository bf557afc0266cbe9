import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { LoadedModel, type RawImage, SeededRandom, train } from '@diyml/ml';
import { colouredSquareImage } from '@diyml/ml/testing/synthetic-images.js';
import { packModel, unpackModel } from '@diyml/training/pure';
import { VideoModelThread } from './video-model-thread.js';

const RED: [number, number, number] = [220, 30, 30];
const BLUE: [number, number, number] = [30, 60, 220];
const png = (image: RawImage) =>
  sharp(Buffer.from(image.pixels), { raw: { width: image.width, height: image.height, channels: image.channels } })
    .png()
    .toBuffer();

describe('video model thread', () => {
  let modelZip: Uint8Array;
  let frames: Uint8Array[];

  beforeAll(async () => {
    const random = new SeededRandom(3);
    const examples = Array.from({ length: 16 }, (_, i) => ({
      image: colouredSquareImage(i % 2 ? RED : BLUE, 8, random),
      label: i % 2,
    }));
    const result = await train(
      { task: 'classification', labels: ['blue', 'red'], examples },
      { imageSize: 8, epochs: 2, batchSize: 8, validationSplit: 0, augmentation: false, seed: 3, learningRate: 0.05 },
    );
    modelZip = packModel(result.model);
    frames = (
      await Promise.all(Array.from({ length: 40 }, (_, i) => png(colouredSquareImage(i < 20 ? RED : BLUE, 12, random))))
    ).map((frame) => new Uint8Array(frame));
  }, 60_000);

  it('predicts chunk after chunk with the model loaded once, as the model itself predicts them; a bad frame fails only its chunk', async () => {
    const thread = await VideoModelThread.open(modelZip);
    let chunks: Awaited<ReturnType<VideoModelThread['predict']>>[];
    try {
      chunks = [await thread.predict(frames.slice(0, 32), { threshold: 0 })];
      await expect(thread.predict([new TextEncoder().encode('not a png')], {})).rejects.toThrow(/./);
      chunks.push(await thread.predict(frames.slice(32), { threshold: 0 }));
    } finally {
      await thread.close();
    }
    expect(chunks.map((chunk) => chunk.length)).toEqual([32, 8]);
    const model = await LoadedModel.load(unpackModel(modelZip));
    try {
      const expected = await model.predictBatch(frames, { threshold: 0 });
      chunks.flat().forEach((predictions, index) => {
        expect(predictions.map((prediction) => prediction.label)).toEqual(
          expected[index].map((prediction) => prediction.label),
        );
        predictions.forEach((prediction, rank) =>
          expect(prediction.probability).toBeCloseTo(expected[index][rank].probability, 5),
        );
      });
    } finally {
      model.dispose();
    }
  }, 120_000);

  it('refuses an archive that is not a model', async () => {
    await expect(VideoModelThread.open(new TextEncoder().encode('not a zip'))).rejects.toThrow(/zip|archive|model/i);
  }, 120_000);
});
