import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { zipSync } from 'fflate';
import { buildZip, deflatedEntry, zeroBomb } from '@diyml/core/testing/zip-bombs.js';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { ApiClient } from '../support/api-client.js';
import { expectStayedLive, underAttack } from '../support/liveness-probe.js';
import { registerAndLogIn, startTestApp, type TestApp } from '../support/test-app.js';
import { modelZip, tinyClassifier } from '../support/tiny-models.js';

const MiB = 1024 * 1024;
/** Each model import loads the model on its own thread: seconds on a busy machine. */
vi.setConfig({ testTimeout: 60_000 });
/**
 * Generous bounds: a liveness check of the api (slowest /health from another process, scaled by the load per core,
 * see expectStayedLive), and memory that did not follow the bomb. Before the fixes a bomb held the api 5-18 s.
 */
const HEALTH_BOUND_MS = 1000;
const RSS_BOUND_BYTES = 200 * MiB;

describe('hostile archives', () => {
  let testApp: TestApp;
  let client: ApiClient;
  /** One entry of 1 MiB that inflates to 1 GiB, and declares so in its headers. */
  let bombEntry: ReturnType<typeof zeroBomb>;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    bombEntry = zeroBomb('bomb', 1024 * MiB);
    // Under test the first archive thread compiles its TypeScript: done once here, not during an attack.
    const warmUp = await client.createProject('classification', [], 'warm-up');
    await importZip(warmUp.id, Buffer.from(zipSync({ 'cat/1.png': await generateImage(7) }))).expect(201);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  const importZip = (projectId: string, zip: Buffer) =>
    client.http
      .post(`/v1/projects/${projectId}/images/import`)
      .set('Authorization', client.auth)
      .attach('archive', zip, { filename: 'dataset.zip', contentType: 'application/zip' });
  const importModel = (projectId: string, zip: Buffer) =>
    client.http
      .post(`/v1/projects/${projectId}/models`)
      .set('Authorization', client.auth)
      .attach('model', zip, 'model.zip');

  async function expectNothingWritten(projectId: string) {
    const images = await client.http
      .get(`/v1/projects/${projectId}/images`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(images.body.items).toEqual([]);
    const project = await client.http.get(`/v1/projects/${projectId}`).set('Authorization', client.auth).expect(200);
    expect(project.body.labels).toEqual([]);
    const iterations = await client.http
      .get(`/v1/projects/${projectId}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(iterations.body.items).toEqual([]);
  }

  it('refuses dataset zip bombs (1 MiB → 1 GiB): 413 when their headers say so, 400 when they lie, while /health answers and memory stays bounded', async () => {
    const coco = await client.createProject('detection', [], 'coco bomb');
    const classes = await client.createProject('classification', [], 'folder bomb');
    const cocoBomb = buildZip([{ ...bombEntry, name: 'annotations.json' }]);
    const imageBomb = buildZip([{ ...bombEntry, name: 'cat/1.png', declaredSize: 1000 }]);
    expect(cocoBomb.byteLength).toBeLessThan(2 * MiB);

    const report = await underAttack(testApp, () =>
      Promise.all([importZip(coco.id, cocoBomb), importZip(classes.id, imageBomb)]),
    );
    const [honest, lying] = report.result;
    expect(honest.status).toBe(413);
    expect(honest.body).toMatchObject({ code: 'ARCHIVE_RATIO_EXCEEDED', details: { maxRatio: 200 } });
    // Held to the 1,000 bytes it declares, the entry is cut there: the zip is damaged.
    expect(lying.status).toBe(400);
    expect(lying.body.code).toBe('INVALID_ARCHIVE');
    for (const response of report.result) expect(JSON.stringify(response.body).length).toBeLessThan(1000);
    expectStayedLive(report, HEALTH_BOUND_MS, RSS_BOUND_BYTES);
    await expectNothingWritten(coco.id);
    await expectNothingWritten(classes.id);
  });

  it('refuses three dataset bombs sent at once, each with 413, the api staying live', async () => {
    const projects = await Promise.all(
      [1, 2, 3].map((n) => client.createProject('detection', [], `parallel bomb ${n}`)),
    );
    const zip = buildZip([{ ...bombEntry, name: 'train/_annotations.coco.json' }]);
    const report = await underAttack(testApp, () => Promise.all(projects.map((project) => importZip(project.id, zip))));
    expect(report.result.map((response) => [response.status, response.body.code])).toEqual(
      Array.from({ length: 3 }, () => [413, 'ARCHIVE_RATIO_EXCEEDED']),
    );
    expectStayedLive(report, HEALTH_BOUND_MS, RSS_BOUND_BYTES);
  });

  it('refuses a model whose weights.bin is a bomb (1 MiB → 1 GiB) with 413, the api staying live', async () => {
    const project = await client.createProject('classification', [], 'model bomb');
    const model = await tinyClassifier(['a', 'b']);
    const zip = buildZip([
      deflatedEntry('model.json', Buffer.from(JSON.stringify(model.modelJson))),
      { ...bombEntry, name: 'weights.bin' },
    ]);
    const report = await underAttack(testApp, () => importModel(project.id, zip));
    expect(report.result.status).toBe(413);
    expect(report.result.body.code).toBe('ARCHIVE_RATIO_EXCEEDED');
    expectStayedLive(report, HEALTH_BOUND_MS, RSS_BOUND_BYTES);
    await expectNothingWritten(project.id);
  });

  it('refuses weights that are not exactly what model.json describes (422 MODEL_WEIGHTS_MISMATCH)', async () => {
    const project = await client.createProject('classification', ['a', 'b'], 'weights mismatch');
    const model = await tinyClassifier(['a', 'b']);
    const larger = await importModel(
      project.id,
      modelZip({ ...model, weights: Buffer.concat([model.weights, randomBytes(2 * MiB)]) }),
    );
    expect(larger.status).toBe(422);
    expect(larger.body).toMatchObject({
      code: 'MODEL_WEIGHTS_MISMATCH',
      details: { expectedBytes: model.weights.byteLength, actualBytes: model.weights.byteLength + 2 * MiB },
    });
    const shorter = await importModel(project.id, modelZip({ ...model, weights: model.weights.subarray(4) }));
    expect(shorter.status).toBe(422);
    expect(shorter.body.code).toBe('MODEL_WEIGHTS_MISMATCH');
    const extra = Buffer.from(
      zipSync({
        'model.json': Buffer.from(JSON.stringify(model.modelJson)),
        'weights.bin': model.weights,
        'more.bin': new Uint8Array(8),
      }),
    );
    expect((await importModel(project.id, extra)).body.code).toBe('MODEL_WEIGHTS_MISMATCH');
    const iterations = await client.http
      .get(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(iterations.body.items).toEqual([]);
  });

  it('refuses models that could only fail: NaN or infinite weights, metadata that contradicts the graph, a huge declared input', async () => {
    const project = await client.createProject('classification', ['a', 'b', 'c'], 'models that fail');
    const refusal = async (zip: Buffer) => {
      const response = await importModel(project.id, zip);
      expect(response.status).toBe(422);
      expect(response.body.code).toBe('MODEL_INVALID');
      return response.body.details.reason as string;
    };

    const model = await tinyClassifier(['a', 'b']);
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const weights = new Uint8Array(model.weights);
      new DataView(weights.buffer).setFloat32(12, value, true);
      expect(await refusal(modelZip({ ...model, weights }))).toMatch(/NaN or an infinity/);
    }
    const wrongSize = await tinyClassifier(['a', 'b'], { imageSize: { width: 64, height: 64 } });
    expect(await refusal(modelZip(wrongSize))).toMatch(/blank 64×64 image fails/);
    const moreLabels = await tinyClassifier(['a', 'b']);
    (moreLabels.modelJson.userDefinedMetadata as { diyml: { labels: string[] } }).diyml.labels = ['a', 'b', 'c'];
    expect(await refusal(modelZip(moreLabels))).toMatch(/scores 2 classes, but names 3 labels/);
    const huge = await tinyClassifier(['a', 'b'], { imageSize: { width: 100_000, height: 100_000 } });
    expect(await refusal(modelZip(huge))).toMatch(/more than the 1048576 allowed/);

    const iterations = await client.http
      .get(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(iterations.body.items).toEqual([]);
    // The same model with finite weights and agreeing metadata is taken.
    const good = await importModel(project.id, modelZip(model));
    expect(good.status).toBe(201);
  }, 120_000);
});

describe('archive limits on the bytes really inflated', () => {
  let testApp: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp({
      settings: {
        ARCHIVE_MAX_RATIO: 1_000_000,
        ARCHIVE_MAX_ENTRY_BYTES: 8 * MiB,
        ARCHIVE_MAX_INFLATED_BYTES: 16 * MiB,
        ARCHIVE_MAX_ENTRIES: 10,
      },
    });
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  const importZip = (projectId: string, zip: Buffer) =>
    client.http
      .post(`/v1/projects/${projectId}/images/import`)
      .set('Authorization', client.auth)
      .attach('archive', zip, 'dataset.zip');

  it('stops an entry past ARCHIVE_MAX_ENTRY_BYTES, a zip past ARCHIVE_MAX_INFLATED_BYTES and one with too many entries, with 413', async () => {
    const project = await client.createProject('detection', [], 'limits');
    const entry = await importZip(project.id, buildZip([zeroBomb('annotations.json', 64 * MiB)]));
    expect(entry.status).toBe(413);
    expect(entry.body).toMatchObject({
      code: 'ARCHIVE_ENTRY_TOO_LARGE',
      details: { path: 'annotations.json', maxEntryBytes: 8 * MiB },
    });

    const total = await importZip(project.id, buildZip([1, 2, 3].map((n) => zeroBomb(`part${n}.json`, 6 * MiB))));
    expect(total.status).toBe(413);
    expect(total.body).toMatchObject({ code: 'ARCHIVE_TOO_LARGE', details: { maxTotalBytes: 16 * MiB } });

    const files = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`notes/${i}.txt`, new Uint8Array([i])]));
    const entries = await importZip(project.id, Buffer.from(zipSync(files)));
    expect(entries.status).toBe(413);
    expect(entries.body.code).toBe('ARCHIVE_TOO_MANY_ENTRIES');
  });
});
