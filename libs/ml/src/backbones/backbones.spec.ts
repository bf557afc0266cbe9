import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { selectBackend } from '../backend/backend-selection.js';
import { createOnnxFeatureExtractor } from '../onnx/onnx-feature-extractor.js';
import { SeededRandom } from '../random/seeded-random.js';
import { colouredSquareImage } from '../testing/synthetic-images.js';
import { tinyBackboneDescriptor, tinyBackboneModel } from '../testing/tiny-backbone.js';
import { BackboneError, type FeatureRunnerFactory } from './backbone.js';
import { getBackbone, listBackbones, registerBackbone, unregisterBackbone } from './backbone-registry.js';
import {
  embedEncodedImages,
  embeddingSpaceOf,
  emptyEmbeddingTable,
  IDENTITY_VIEW,
  imageContentHash,
} from './embeddings.js';
import { loadBackbone } from './load-backbone.js';
import { ensureBackboneWeights } from './weight-sources.js';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** Serves `files` by name and counts requests, like a model host would. */
async function serve(
  files: Record<string, Uint8Array | string>,
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const name = decodeURIComponent(new URL(request.url!, 'http://x').pathname.slice(1));
    requests.push(name);
    const body = files[name];
    if (body === undefined) return void response.writeHead(404).end();
    response.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function expectBackboneError(promise: Promise<unknown>, code: string): Promise<BackboneError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BackboneError);
  expect((error as BackboneError).code).toBe(code);
  return error as BackboneError;
}

describe('backbones', () => {
  let dataDir: string;

  beforeAll(async () => {
    await selectBackend('cpu');
  });
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'diyml-backbones-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lists the MobileNetV2 shipped in nsfwjs with its licence, input and feature layers, and finds its weights installed', async () => {
    const mobilenet = listBackbones().find((backbone) => backbone.id === 'mobilenet-v2')!;
    expect(mobilenet).toMatchObject({
      inputSize: 224,
      inputRange: [0, 1],
      embeddingLayer: 'block_13_expand_relu',
      source: { kind: 'npm-package', package: 'nsfwjs' },
    });
    expect(mobilenet.licence).toMatch(/MIT/);
    expect(mobilenet.featureLayers.map((layer) => [layer.name, layer.stride])).toContainEqual([
      'block_16_project_BN',
      32,
    ]);
    await expect(ensureBackboneWeights(mobilenet)).resolves.toBeUndefined();
  });

  it('computes feature maps at named layers, with the strides and channels the registry states', async () => {
    const model = await tinyBackboneModel();
    const backbone = await loadBackbone(tinyBackboneDescriptor('tiny-memory', { kind: 'model', model }));
    const [stage1, stage3] = backbone.featureMaps(tf.ones([2, 32, 32, 3]), ['stage_1', 'stage_3']);
    expect(stage1.shape).toEqual([2, 16, 16, 8]);
    expect(stage3.shape).toEqual([2, 4, 4, 32]);
    expect(backbone.model.layers.every((layer) => !layer.trainable)).toBe(true);
    const runner = await backbone.createRunner(['stage_2']);
    const [fromRunner] = await runner.run(new Float32Array(2 * 32 * 32 * 3).fill(1), 2);
    const [direct] = backbone.featureMaps(tf.ones([2, 32, 32, 3]), ['stage_2']);
    // The runner is onnxruntime by default: the same values as tfjs up to float rounding.
    const expected = await direct.data();
    expect(fromRunner).toHaveLength(expected.length);
    expect(Math.max(...Array.from(fromRunner, (value, i) => Math.abs(value - expected[i])))).toBeLessThan(1e-4);
    tf.dispose([stage1, stage3, direct]);
    runner.dispose();
    backbone.dispose();
  });

  it("builds a frozen backbone's runner once per layer list and shares it; once layers are trainable, from their current weights", async () => {
    const model = await tinyBackboneModel();
    const layersBuilt: string[] = [];
    const countingRunners: FeatureRunnerFactory = (frozen, layers) => {
      layersBuilt.push(layers.join());
      return createOnnxFeatureExtractor(frozen, layers);
    };
    const backbone = await loadBackbone(tinyBackboneDescriptor('tiny-shared-runner', { kind: 'model', model }), {
      runnerFactory: countingRunners,
    });
    const image = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => (i % 17) / 17);
    const first = await backbone.createRunner(['stage_2']);
    const [before] = await first.run(image, 1);
    first.dispose();
    const [again] = await (await backbone.createRunner(['stage_2'])).run(image, 1);
    await backbone.createRunner(['stage_3']);
    expect(layersBuilt).toEqual(['stage_2', 'stage_3']);
    expect(again).toEqual(before);

    const trained = backbone.model.getLayer('stage_2');
    trained.trainable = true;
    const doubled = trained.getWeights().map((weight) => tf.mul(weight, 2));
    trained.setWeights(doubled);
    tf.dispose(doubled);
    const [after] = await (await backbone.createRunner(['stage_2'])).run(image, 1);
    expect(layersBuilt).toEqual(['stage_2', 'stage_3', 'stage_2']);
    const [expected] = backbone.featureMaps(tf.tensor4d(image, [1, 32, 32, 3]), ['stage_2']);
    const expectedValues = await expected.data();
    expect(Math.max(...Array.from(after, (value, i) => Math.abs(value - expectedValues[i])))).toBeLessThan(1e-4);
    expect(Math.max(...Array.from(after, (value, i) => Math.abs(value - before[i])))).toBeGreaterThan(1e-3);
    tf.dispose(expected);
    backbone.dispose();
  });

  it('embeds encoded photos batch after batch with the values each gives alone, and fails on a photo that does not decode', async () => {
    const model = await tinyBackboneModel();
    const backbone = await loadBackbone(tinyBackboneDescriptor('tiny-embedding', { kind: 'model', model }));
    const random = new SeededRandom(3);
    const photos = await Promise.all(
      (
        [
          [200, 40, 40],
          [40, 200, 40],
          [40, 40, 200],
          [200, 200, 40],
          [40, 200, 200],
        ] as const
      ).map(async (colour) => {
        const { pixels, width, height, channels } = colouredSquareImage([...colour], 48, random);
        const bytes = new Uint8Array(await sharp(pixels, { raw: { width, height, channels } }).jpeg().toBuffer());
        return { hash: imageContentHash(bytes), bytes };
      }),
    );
    const space = embeddingSpaceOf(backbone.descriptor);
    const together = emptyEmbeddingTable(space, 16);
    await expect(embedEncodedImages(backbone, together, photos, [IDENTITY_VIEW], 2)).resolves.toBe(5);
    for (const photo of photos) {
      const alone = emptyEmbeddingTable(space, 16);
      await embedEncodedImages(backbone, alone, [photo], [IDENTITY_VIEW], 1);
      expect(together.vectors.get(photo.hash)!.get('identity')).toEqual(alone.vectors.get(photo.hash)!.get('identity'));
    }
    const broken = { hash: 'broken', bytes: photos[4].bytes.subarray(0, 200) };
    await expect(
      embedEncodedImages(backbone, emptyEmbeddingTable(space, 16), [...photos.slice(0, 4), broken], [IDENTITY_VIEW], 2),
    ).rejects.toThrow(/JPEG|premature|truncated|corrupt/i);
    backbone.dispose();
  });

  it('refuses a model that does not match its description', async () => {
    const model = await tinyBackboneModel();
    const wrong = { ...tinyBackboneDescriptor('tiny-wrong', { kind: 'model', model }), inputSize: 64 };
    const error = await expectBackboneError(loadBackbone(wrong), 'BACKBONE_INVALID');
    expect(error.message).toContain('expected [64, 64, 3]');
  });

  it('names the known backbones when asked for an unknown one', () => {
    expect(() => getBackbone('resnet-9000')).toThrow(/Unknown backbone 'resnet-9000'; known: .*mobilenet-v2/);
  });

  describe('from a URL', () => {
    it('downloads a backbone once into the data directory, verified, and loads it from there afterwards', async () => {
      const model = await tinyBackboneModel();
      const server = await serve({ 'model.json': model.modelJson, 'weights.bin': model.weights });
      try {
        const descriptor = tinyBackboneDescriptor('tiny-url', {
          kind: 'url',
          url: `${server.url}model.json`,
          sha256: { 'model.json': sha256(model.modelJson), 'weights.bin': sha256(model.weights) },
        });
        registerBackbone(descriptor);
        const first = await loadBackbone('tiny-url', { cacheDirectory: dataDir });
        const second = await loadBackbone('tiny-url', { cacheDirectory: dataDir });
        expect(server.requests).toEqual(['model.json', 'weights.bin']);
        expect((await readdir(join(dataDir, 'tiny-url'))).sort()).toEqual(
          [sha256(model.modelJson), sha256(model.weights)].sort(),
        );
        const [a, b] = [
          first.featureMaps(tf.ones([1, 32, 32, 3]), ['stage_3'])[0],
          second.featureMaps(tf.ones([1, 32, 32, 3]), ['stage_3'])[0],
        ];
        expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
        tf.dispose([a, b]);
        first.dispose();
        second.dispose();
      } finally {
        unregisterBackbone('tiny-url');
        await server.close();
      }
    });

    it('refuses weights whose checksum does not match, and keeps nothing of them', async () => {
      const model = await tinyBackboneModel();
      const server = await serve({ 'model.json': model.modelJson, 'weights.bin': model.weights });
      try {
        const descriptor = tinyBackboneDescriptor('tiny-tampered', {
          kind: 'url',
          url: `${server.url}model.json`,
          sha256: { 'model.json': sha256(model.modelJson), 'weights.bin': sha256('other bytes') },
        });
        const error = await expectBackboneError(
          loadBackbone(descriptor, { cacheDirectory: dataDir }),
          'BACKBONE_CHECKSUM_MISMATCH',
        );
        expect(error.message).toContain(`has sha256 ${sha256(model.weights)}`);
        expect(existsSync(join(dataDir, 'tiny-tampered', sha256('other bytes')))).toBe(false);
      } finally {
        await server.close();
      }
    });

    it('explains that an unreachable URL could not be fetched and where to put the file instead', async () => {
      const server = await serve({});
      await server.close();
      const descriptor = tinyBackboneDescriptor('tiny-offline', {
        kind: 'url',
        url: `${server.url}model.json`,
        sha256: { 'model.json': sha256('x') },
      });
      const error = await expectBackboneError(
        loadBackbone(descriptor, { cacheDirectory: dataDir }),
        'BACKBONE_DOWNLOAD_FAILED',
      );
      expect(error.message).toContain(`${server.url}model.json`);
      expect(error.message).toContain(join(dataDir, 'tiny-offline'));
    });

    it('reports a missing file on the server as a failed download', async () => {
      const model = await tinyBackboneModel();
      const server = await serve({ 'model.json': model.modelJson });
      try {
        const descriptor = tinyBackboneDescriptor('tiny-partial', {
          kind: 'url',
          url: `${server.url}model.json`,
          sha256: { 'model.json': sha256(model.modelJson), 'weights.bin': sha256(model.weights) },
        });
        const error = await expectBackboneError(
          ensureBackboneWeights(descriptor, { cacheDirectory: dataDir }),
          'BACKBONE_DOWNLOAD_FAILED',
        );
        expect(error.message).toContain('HTTP 404');
      } finally {
        await server.close();
      }
    });
  });
});
