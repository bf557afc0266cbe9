import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FsBlobStore } from '@diyml/blobs';
import { Settings } from '@diyml/core';
import { type RawImage, SeededRandom, train } from '@diyml/ml';
import { colouredSquareImage } from '@diyml/ml/testing/synthetic-images.js';
import { packModel } from '@diyml/training/pure';
import type { Recorded } from '@diyml/event-store';
import { DeploymentSettings } from '../deployment-settings.js';
import type { ModelDeployed } from '../domain/deployment.events.js';
import { ModelCache } from './model-cache.js';
import { ModelWarmingReactor, WARM_DEPLOYMENTS_WITHIN_MS } from './model-warming.reactor.js';

/** The real file blob store, counting reads. */
class CountingBlobStore extends FsBlobStore {
  reads = 0;
  override get(sha256: string) {
    this.reads += 1;
    return super.get(sha256);
  }
}

const png = (image: RawImage) =>
  sharp(Buffer.from(image.pixels), { raw: { width: image.width, height: image.height, channels: image.channels } })
    .png()
    .toBuffer();

async function tinyModel(seed: number): Promise<Uint8Array> {
  const random = new SeededRandom(seed);
  const examples = Array.from({ length: 16 }, (_, i) => ({
    image: colouredSquareImage(i % 2 ? [220, 30, 30] : [30, 60, 220], 8, random),
    label: i % 2,
  }));
  const result = await train(
    { task: 'classification', labels: ['blue', 'red'], examples },
    { imageSize: 8, epochs: 2, batchSize: 8, validationSplit: 0, augmentation: false, seed, learningRate: 0.05 },
  );
  return packModel(result.model);
}

describe('model cache', () => {
  let directory: string;
  let blobs: CountingBlobStore;
  let first: string;
  let second: string;
  let images: Buffer[];

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'diyml-model-cache-'));
    blobs = new CountingBlobStore({ directory, fsync: false });
    first = (await blobs.put(await tinyModel(1))).sha256;
    second = (await blobs.put(await tinyModel(2))).sha256;
    const random = new SeededRandom(9);
    images = await Promise.all(
      Array.from({ length: 12 }, (_, i) => png(colouredSquareImage(i % 2 ? [220, 30, 30] : [30, 60, 220], 12, random))),
    );
  }, 60_000);
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('loads a model once for concurrent first requests, and batches their predictions without changing them', async () => {
    const cache = new ModelCache(blobs, new DeploymentSettings(), new Settings());
    blobs.reads = 0;
    const together = await Promise.all(
      images.map((image) => cache.use(first, ({ batcher }) => batcher.predict(image, {}))),
    );
    expect(blobs.reads).toBe(1);
    const alone: unknown[] = [];
    for (const image of images) alone.push(await cache.use(first, ({ model }) => model.predict(image)));
    expect(blobs.reads).toBe(1);
    together.forEach((predictions, index) => {
      const expected = alone[index] as typeof predictions;
      expect(predictions.map((p) => p.label)).toEqual(expected.map((p) => p.label));
      predictions.forEach((p, k) => expect(p.probability).toBeCloseTo(expected[k].probability, 5));
    });
    const top = await cache.use(first, ({ batcher }) => batcher.predict(images[0], { maxResults: 1 }));
    expect(top).toHaveLength(1);
    const none = await cache.use(first, ({ batcher }) => batcher.predict(images[0], { threshold: 1.01 }));
    expect(none).toEqual([]);
    cache.onApplicationShutdown();
  });

  it('keeps at most MODEL_CACHE_MAX_MODELS models, unloading the least recently used', async () => {
    const settings = Object.assign(new DeploymentSettings(), { MODEL_CACHE_MAX_MODELS: 1 });
    const cache = new ModelCache(blobs, settings, new Settings());
    await cache.use(first, ({ batcher }) => batcher.predict(images[0], {}));
    await cache.use(second, ({ batcher }) => batcher.predict(images[0], {}));
    expect(cache.has(first)).toBe(false);
    expect(cache.has(second)).toBe(true);
    expect(cache.size).toBe(1);
    cache.onApplicationShutdown();
  });

  it('finishes a prediction that is running when its model is evicted, then loads it afresh', async () => {
    const cache = new ModelCache(blobs, new DeploymentSettings(), new Settings());
    const predictions = await cache.use(first, async ({ batcher }) => {
      cache.evict(first);
      return batcher.predict(images[1], {});
    });
    expect(predictions).toHaveLength(2);
    expect(cache.has(first)).toBe(false);
    blobs.reads = 0;
    await cache.use(first, ({ batcher }) => batcher.predict(images[1], {}));
    expect(blobs.reads).toBe(1);
    cache.onApplicationShutdown();
  });

  it('loads a newly deployed model before its first prediction, but not the models of old deployments', async () => {
    const cache = new ModelCache(blobs, new DeploymentSettings(), new Settings());
    const now = new Date('2026-12-03T12:00:00Z');
    const reactor = new ModelWarmingReactor(cache, { now: () => now });
    const deployed = (modelSha256: string, deployedAt: Date) =>
      ({
        id: `event-${modelSha256.slice(0, 8)}`,
        streamId: 'deployment-1',
        revision: 0,
        position: 0,
        type: 'ModelDeployed',
        v: 1,
        data: { modelSha256, deployedAt: deployedAt.toISOString() },
        metadata: { userId: null, correlationId: 'c', causationId: null, at: deployedAt.toISOString() },
      }) as unknown as Recorded<ModelDeployed>;
    blobs.reads = 0;
    await reactor.apply(deployed(first, new Date(now.getTime() - 1000)));
    await reactor.apply(deployed(second, new Date(now.getTime() - WARM_DEPLOYMENTS_WITHIN_MS - 1000)));
    // Loads still in progress end before shutdown: here, the warm-up.
    await cache.beforeApplicationShutdown();
    expect(cache.has(first)).toBe(true);
    expect(cache.has(second)).toBe(false);
    await cache.use(first, ({ batcher }) => batcher.predict(images[0], {}));
    expect(blobs.reads).toBe(1);
    cache.onApplicationShutdown();
  });

  it('forgets a model that failed to load, so a later request tries again', async () => {
    const cache = new ModelCache(blobs, new DeploymentSettings(), new Settings());
    const missing = 'f'.repeat(64);
    await expect(cache.use(missing, async () => 1)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    expect(cache.has(missing)).toBe(false);
  });
});
