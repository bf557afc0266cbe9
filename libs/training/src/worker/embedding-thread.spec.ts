import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import {
  decodeEmbeddingTable,
  SeededRandom,
  selectBackend,
  type BackboneDescriptor,
  type EncodedImage,
} from '@diyml/ml';
import { colouredSquareImage } from '@diyml/ml/testing/synthetic-images.js';
import { TINY_BACKBONE_SIZE, tinyBackboneDescriptor, tinyBackboneModel } from '@diyml/ml/testing/tiny-backbone.js';
import { EmbeddingCancelled, EmbeddingThreadPool } from './embedding-thread.js';

async function photos(count: number, seed: number): Promise<EncodedImage[]> {
  const random = new SeededRandom(seed);
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const image = colouredSquareImage([40 + index * 50, 200 - index * 40, 90], TINY_BACKBONE_SIZE * 2, random);
      const bytes = new Uint8Array(
        await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } })
          .png()
          .toBuffer(),
      );
      return { hash: `image-${seed}-${index}`, bytes };
    }),
  );
}

describe('EmbeddingThreadPool', () => {
  let first: BackboneDescriptor;
  let second: BackboneDescriptor;
  const pools: EmbeddingThreadPool[] = [];
  const pool = (options: ConstructorParameters<typeof EmbeddingThreadPool>[0]) => {
    const made = new EmbeddingThreadPool(options);
    pools.push(made);
    return made;
  };

  beforeAll(async () => {
    await selectBackend();
    first = tinyBackboneDescriptor('tiny-a', { kind: 'model', model: await tinyBackboneModel(7) });
    second = tinyBackboneDescriptor('tiny-b', { kind: 'model', model: await tinyBackboneModel(11) });
  });
  afterEach(() => Promise.all(pools.splice(0).map((made) => made.closeAll())));

  it('keeps the backbone loaded for the next request on the same backbone, and the vectors are the same', async () => {
    const threads = pool({});
    const images = await photos(3, 1);
    const cold = await threads.embed({
      backbone: first,
      cacheDirectory: '/nowhere',
      augmentation: false,
      table: null,
      images: images.slice(0, 2),
    });
    const warm = await threads.embed({
      backbone: first,
      cacheDirectory: '/nowhere',
      augmentation: false,
      table: cold.table.slice(),
      images: images.slice(2),
    });
    const fresh = await pool({}).embed({
      backbone: first,
      cacheDirectory: '/nowhere',
      augmentation: false,
      table: null,
      images,
    });

    expect([cold.warm, warm.warm]).toEqual([false, true]);
    expect([cold.computed, warm.computed, warm.imageCount]).toEqual([2, 1, 3]);
    expect(threads.started).toBe(1);
    // A warm thread computes exactly what a new one does.
    expect(Buffer.from(warm.table).equals(Buffer.from(fresh.table))).toBe(true);
    expect(decodeEmbeddingTable(warm.table).vectors.size).toBe(3);
  });

  it('keeps at most maxThreads backbones, closes idle threads and recovers from a cancelled request', async () => {
    const threads = pool({ maxThreads: 1, idleMs: 200 });
    const images = await photos(1, 2);
    const request = (backbone: BackboneDescriptor) => ({
      backbone,
      cacheDirectory: '/nowhere',
      augmentation: false,
      table: null,
      images,
    });

    await threads.embed(request(first));
    const other = await threads.embed(request(second));
    expect([other.warm, threads.started, threads.openThreads]).toEqual([false, 2, 1]);

    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(threads.openThreads).toBe(0);

    // Cancelled while its new thread loads the backbone: the thread is stopped; the next request starts another.
    const abort = new AbortController();
    const cancelled = threads.embed(request(second), abort.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    abort.abort();
    await expect(cancelled).rejects.toBeInstanceOf(EmbeddingCancelled);
    expect(threads.openThreads).toBe(0);
    const after = await threads.embed(request(second));
    expect([after.warm, after.computed, threads.started]).toEqual([false, 1, 4]);

    // Cancelled before its turn: the warm thread stays.
    const early = new AbortController();
    const skipped = threads.embed(request(second), early.signal);
    early.abort();
    await expect(skipped).rejects.toBeInstanceOf(EmbeddingCancelled);
    expect((await threads.embed(request(second))).warm).toBe(true);
  });
});
