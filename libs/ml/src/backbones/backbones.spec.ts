import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/backend-selection.js';
import { tinyBackboneDescriptor, tinyBackboneModel } from '../testing/tiny-backbone.js';
import { BackboneError } from './backbone.js';
import { getBackbone, listBackbones, registerBackbone, unregisterBackbone } from './backbone-registry.js';
import { loadBackbone } from './load-backbone.js';
import { ensureBackboneWeights } from './weight-sources.js';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** Serves `files` by name and counts requests, like a model host would. */
async function serve(files: Record<string, Uint8Array | string>): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
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
  return { url: `http://127.0.0.1:${port}/`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
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
    expect(mobilenet).toMatchObject({ inputSize: 224, inputRange: [0, 1], embeddingLayer: 'block_13_expand_relu', source: { kind: 'npm-package', package: 'nsfwjs' } });
    expect(mobilenet.licence).toMatch(/MIT/);
    expect(mobilenet.featureLayers.map((layer) => [layer.name, layer.stride])).toContainEqual(['block_16_project_BN', 32]);
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
        const descriptor = tinyBackboneDescriptor('tiny-url', { kind: 'url', url: `${server.url}model.json`, sha256: { 'model.json': sha256(model.modelJson), 'weights.bin': sha256(model.weights) } });
        registerBackbone(descriptor);
        const first = await loadBackbone('tiny-url', { cacheDirectory: dataDir });
        const second = await loadBackbone('tiny-url', { cacheDirectory: dataDir });
        expect(server.requests).toEqual(['model.json', 'weights.bin']);
        expect((await readdir(join(dataDir, 'tiny-url'))).sort()).toEqual([sha256(model.modelJson), sha256(model.weights)].sort());
        const [a, b] = [first.featureMaps(tf.ones([1, 32, 32, 3]), ['stage_3'])[0], second.featureMaps(tf.ones([1, 32, 32, 3]), ['stage_3'])[0]];
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
        const descriptor = tinyBackboneDescriptor('tiny-tampered', { kind: 'url', url: `${server.url}model.json`, sha256: { 'model.json': sha256(model.modelJson), 'weights.bin': sha256('other bytes') } });
        const error = await expectBackboneError(loadBackbone(descriptor, { cacheDirectory: dataDir }), 'BACKBONE_CHECKSUM_MISMATCH');
        expect(error.message).toContain(`has sha256 ${sha256(model.weights)}`);
        expect(existsSync(join(dataDir, 'tiny-tampered', sha256('other bytes')))).toBe(false);
      } finally {
        await server.close();
      }
    });

    it('explains that an unreachable URL could not be fetched and where to put the file instead', async () => {
      const server = await serve({});
      await server.close();
      const descriptor = tinyBackboneDescriptor('tiny-offline', { kind: 'url', url: `${server.url}model.json`, sha256: { 'model.json': sha256('x') } });
      const error = await expectBackboneError(loadBackbone(descriptor, { cacheDirectory: dataDir }), 'BACKBONE_DOWNLOAD_FAILED');
      expect(error.message).toContain(`${server.url}model.json`);
      expect(error.message).toContain(join(dataDir, 'tiny-offline'));
    });

    it('reports a missing file on the server as a failed download', async () => {
      const model = await tinyBackboneModel();
      const server = await serve({ 'model.json': model.modelJson });
      try {
        const descriptor = tinyBackboneDescriptor('tiny-partial', { kind: 'url', url: `${server.url}model.json`, sha256: { 'model.json': sha256(model.modelJson), 'weights.bin': sha256(model.weights) } });
        const error = await expectBackboneError(ensureBackboneWeights(descriptor, { cacheDirectory: dataDir }), 'BACKBONE_DOWNLOAD_FAILED');
        expect(error.message).toContain('HTTP 404');
      } finally {
        await server.close();
      }
    });
  });
});
