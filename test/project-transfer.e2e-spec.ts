import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingAPIClient } from '@azure/cognitiveservices-customvision-training';
import { RestError } from '@azure/ms-rest-js';
import { Test } from '@nestjs/testing';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Response } from 'superagent';
import { ZipFile } from 'yazl';
import { ReadOnlyAppModule, verifyReadModels } from '../apps/api/src/replay-verification.js';
import { Settings, validateSettings } from '@diyml/core';
import { buildZip, zeroBomb } from '@diyml/core/testing/zip-bombs.js';
import { UsageRecorder } from '@diyml/deployments';
import { EventStore } from '@diyml/event-store';
import { compareReadStores, InMemoryReadStore, ProjectionRunner, ReadStore, replayAll } from '@diyml/read-store';
import { ApiClient } from './support/api-client.js';
import { sdkClients } from './support/custom-vision-sdk.js';
import { BLUE, colouredSquares, RED, squareScenes } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';

const CONFIG = {
  imageSize: 16,
  epochs: 3,
  batchSize: 8,
  learningRate: 0.01,
  seed: 5,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

const binary = (response: Response, callback: (error: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => callback(null, Buffer.concat(chunks)));
};

interface Image {
  id: string;
  filename: string;
  sha256: string;
  width: number;
  height: number;
  label: { id: string; name: string } | null;
  labels?: { id: string; name: string }[];
  regions?: { label: { id: string; name: string }; x: number; y: number; width: number; height: number }[];
  split: string;
  included: boolean;
  uploadedAt: string;
}

const bySha = (a: { sha256: string }, b: { sha256: string }) => a.sha256.localeCompare(b.sha256);

/** The same entries in a zip whose every record is ZIP64 (as an export past 4 GiB or 65,535 entries has them). */
async function asZip64(archive: Buffer): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, bytes] of Object.entries(unzipSync(archive)))
    zip.addBuffer(Buffer.from(bytes), name, { forceZip64Format: true, compress: name.endsWith('.jsonl') });
  zip.end({ forceZip64Format: true, comment: '' });
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The temporary archives an import left under DATA_DIR/imports. */
const leftovers = (dataDir: string) =>
  existsSync(join(dataDir, 'imports')) ? readdirSync(join(dataDir, 'imports')) : [];

const until = async (condition: () => boolean, what: string) => {
  for (let waited = 0; !condition(); waited += 50) {
    if (waited > 20_000) throw new Error(`waited 20 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** An image as a user compares it across installations: everything but its id and the ids of its labels. */
const comparable = ({ id: _id, label, labels, regions, ...rest }: Image) => ({
  ...rest,
  label: label?.name ?? null,
  labels: (labels ?? []).map((entry) => entry.name),
  regions: (regions ?? []).map((region) => ({ ...region, label: region.label.name })),
});

async function rebuildEqualsLive(testApp: TestApp): Promise<void> {
  const runner = testApp.app.get(ProjectionRunner);
  await runner.waitFor(await testApp.app.get(EventStore).headPosition());
  const rebuilt = new InMemoryReadStore();
  await replayAll(testApp.app.get(EventStore), runner.projections, rebuilt);
  const comparisons = await compareReadStores(runner.projections, testApp.app.get(ReadStore), rebuilt);
  expect(comparisons.filter((comparison) => !comparison.equal)).toEqual([]);
}

/** `npm run replay -- --verify` on a data folder whose api is stopped. */
async function replayVerify(dataDir: string) {
  const settings = validateSettings({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const moduleRef = await Test.createTestingModule({ imports: [ReadOnlyAppModule] })
    .overrideProvider(Settings)
    .useValue(settings)
    .compile();
  await moduleRef.init();
  try {
    return await verifyReadModels(moduleRef);
  } finally {
    await moduleRef.close();
  }
}

describe('projects move between installations: export, import with new ids, history and bytes intact', () => {
  let source: TestApp;
  let target: TestApp;
  let from: ApiClient;
  let to: ApiClient;
  let targetUserId: string;
  let classification: { id: string; labels: Record<string, string> };
  let detection: { id: string; labels: Record<string, string> };
  let trained: { id: string };
  let deployment: { id: string; apiKey: string };
  let testRunId: string;
  let archive: Buffer;
  let detectionArchive: Buffer;
  let imported: {
    project: { id: string; name: string; labels: { id: string; name: string }[] };
    sourceProjectId: string;
    events: number;
    deployments: { id: string; name: string; apiKey: string }[];
    contents: Record<string, number>;
    skipped: { unreferencedBlobs: number };
  };
  const get = (client: ApiClient, path: string) => client.http.get(path).set('Authorization', client.auth).expect(200);
  const download = (client: ApiClient, path: string) =>
    client.http.get(path).set('Authorization', client.auth).buffer(true).parse(binary).expect(200);
  const exportProject = (client: ApiClient, projectId: string) =>
    client.http.post(`/v1/projects/${projectId}/export`).set('Authorization', client.auth).buffer(true).parse(binary);
  const importArchive = (bytes: Buffer | undefined, name?: string) => {
    let request = to.http.post('/v1/projects/import').set('Authorization', to.auth);
    if (bytes) request = request.attach('archive', bytes, 'project.diyml.zip');
    if (name !== undefined) request = request.field('name', name);
    return request;
  };
  const images = async (client: ApiClient, projectId: string) =>
    (await get(client, `/v1/projects/${projectId}/images?limit=1000`)).body.items as Image[];
  const iterations = async (client: ApiClient, projectId: string) =>
    (
      (await get(client, `/v1/projects/${projectId}/iterations?limit=1000`)).body.items as {
        id: string;
        number: number;
      }[]
    ).sort((a, b) => a.number - b.number);
  const history = async (client: ApiClient, projectId: string) =>
    (await get(client, `/v1/projects/${projectId}/history?limit=1000`)).body.items as {
      type: string;
      data: Record<string, unknown>;
      metadata: { userId: string; at: string };
    }[];
  const predict = (testApp: TestApp, deploymentId: string, key: string, image: Buffer) =>
    testApp.http.post(`/v1/predict/${deploymentId}`).set('Content-Type', 'image/png').set('X-Api-Key', key).send(image);

  beforeAll(async () => {
    source = await startTestApp();
    from = new ApiClient(source, (await registerAndLogIn(source)).auth);
    classification = await from.createProject('classification', ['red', 'blue', 'green'], 'colours');
    const reds = await from.upload(classification.id, await colouredSquares(RED, 8, 41), { label: 'red' }, 'red');
    const blues = await from.upload(classification.id, await colouredSquares(BLUE, 8, 42), { label: 'blue' }, 'blue');
    // A label given to an image and then removed from the project: the image must come out unlabeled.
    await from.http
      .put(`/v1/projects/${classification.id}/images/${blues[0].id}/label`)
      .set('Authorization', from.auth)
      .send({ label: 'green' })
      .expect(200);
    await from.http
      .delete(`/v1/projects/${classification.id}/labels/${classification.labels.green}`)
      .set('Authorization', from.auth)
      .expect(204);
    await from.http
      .patch(`/v1/projects/${classification.id}/images/${reds[1].id}`)
      .set('Authorization', from.auth)
      .send({ included: false })
      .expect(200);
    await from.configureTraining(classification.id, CONFIG);
    trained = await from.waitForIteration(classification.id, (await from.train(classification.id)).id);
    expect(trained).toMatchObject({ status: 'completed' });
    await from.http
      .post(`/v1/projects/${classification.id}/models`)
      .set('Authorization', from.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'tiny.zip')
      .expect(201);
    deployment = (
      await from.http
        .post(`/v1/projects/${classification.id}/deployments`)
        .set('Authorization', from.auth)
        .send({ iterationId: trained.id })
        .expect(201)
    ).body;
    const testImages = [...(await colouredSquares(RED, 2, 43)), ...(await colouredSquares(BLUE, 2, 44))];
    let run = from.http
      .post(`/v1/projects/${classification.id}/iterations/${trained.id}/test-runs`)
      .set('Authorization', from.auth);
    testImages.forEach((bytes, index) => (run = run.attach('images', bytes, `t${index}.png`)));
    const labels = { 't0.png': 'red', 't1.png': 'red', 't2.png': 'blue', 't3.png': 'blue' };
    testRunId = (await run.field('labels', JSON.stringify(labels)).expect(202)).body.id;
    for (let status = 'requested'; status === 'requested';) {
      status = (await get(from, `/v1/projects/${classification.id}/iterations/${trained.id}/test-runs/${testRunId}`))
        .body.status;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    detection = await from.createProject('detection', ['square'], 'boxes');
    const scenes = await squareScenes([RED], 3, 45);
    const uploaded = await from.upload(
      detection.id,
      scenes.map((scene) => scene.png),
      {},
      'scene',
    );
    const box = scenes[0].boxes[0];
    await from.http
      .put(`/v1/projects/${detection.id}/images/${uploaded[0].id}/regions`)
      .set('Authorization', from.auth)
      .send({ regions: [{ label: 'square', x: box.x, y: box.y, width: box.width, height: box.height }] })
      .expect(200);

    const exported = await exportProject(from, classification.id).expect(200);
    expect(exported.headers['content-type']).toBe('application/zip');
    expect(exported.headers['content-disposition']).toMatch(
      /^attachment; filename="colours-\d{4}-\d{2}-\d{2}\.diyml\.zip"; filename\*=UTF-8''colours-\d{4}-\d{2}-\d{2}\.diyml\.zip$/,
    );
    archive = exported.body;
    detectionArchive = (await exportProject(from, detection.id).expect(200)).body;

    target = await startTestApp();
    const targetUser = await registerAndLogIn(target);
    targetUserId = targetUser.id;
    to = new ApiClient(target, targetUser.auth);
    const response = await importArchive(archive);
    expect({ status: response.status, body: response.status === 201 ? 'imported' : response.body }).toEqual({
      status: 201,
      body: 'imported',
    });
    imported = response.body;
  }, 240_000);

  afterAll(async () => {
    await source?.destroy();
    await target?.destroy();
  });

  it('names what the archive holds: events in log order and every referenced blob', () => {
    const files = unzipSync(archive);
    const manifest = JSON.parse(new TextDecoder().decode(files['diyml-project.json']));
    expect(manifest).toMatchObject({
      format: 'diyml-project',
      version: 1,
      project: { id: classification.id, name: 'colours', type: 'classification' },
      summary: { images: 16, labels: 2, regions: 0, iterations: 2, deployments: 1 },
      missingBlobs: [],
    });
    const lines = new TextDecoder().decode(files['events/000001.jsonl']).trim().split('\n');
    expect(lines).toHaveLength(manifest.events);
    expect(JSON.parse(lines[0])).toMatchObject({
      stream: `project-${classification.id}`,
      type: 'ProjectCreated',
      v: 1,
    });
    expect(
      Object.keys(files)
        .filter((path) => path.startsWith('blobs/'))
        .sort(),
    ).toEqual(manifest.blobs.map((sha256: string) => `blobs/${sha256}`));
    expect(new TextDecoder().decode(files['events/000001.jsonl'])).not.toContain(deployment.apiKey);
  });

  it('creates a new project owned by the importer, with new ids and the same labels', async () => {
    expect(imported.sourceProjectId).toBe(classification.id);
    expect(imported.project.id).not.toBe(classification.id);
    expect(imported.project.name).toBe('colours');
    expect(imported.project.labels.map((label) => label.name)).toEqual(['red', 'blue']);
    expect(imported.project.labels.map((label) => label.id)).not.toContain(classification.labels.red);
    const listed = (await get(to, '/v1/projects')).body.items.map((project: { id: string }) => project.id);
    expect(listed).toEqual([imported.project.id]);
  });

  it('answers with what it imported: images, labels, labels on images, regions, iterations, deployments', async () => {
    // 16 images, one unlabeled (its label, green, was removed from the project); the trained and the uploaded model.
    expect(imported.contents).toEqual({
      images: 16,
      labeledImages: 15,
      labels: 2,
      imageLabels: 15,
      regions: 0,
      iterations: 2,
      deployments: 1,
    });
    expect(imported.skipped).toEqual({ unreferencedBlobs: 0 });
    // The counts the lists show.
    expect(await images(to, imported.project.id)).toHaveLength(imported.contents.images);
    expect(await iterations(to, imported.project.id)).toHaveLength(imported.contents.iterations);
  });

  it('has the same images (bytes, labels, splits, exclusions, upload times) under new ids', async () => {
    const before = await images(from, classification.id);
    const after = await images(to, imported.project.id);
    expect(after.map(comparable).sort(bySha)).toEqual(before.map(comparable).sort(bySha));
    expect(after.filter((image) => image.label === null)).toHaveLength(1);
    const sourceIds = new Set(before.map((image) => image.id));
    expect(after.filter((image) => sourceIds.has(image.id))).toEqual([]);
    const sample = after.find((image) => image.filename === 'red-0.png')!;
    const original = before.find((image) => image.sha256 === sample.sha256)!;
    const [copy, source] = await Promise.all([
      download(to, `/v1/projects/${imported.project.id}/images/${sample.id}/content`),
      download(from, `/v1/projects/${classification.id}/images/${original.id}/content`),
    ]);
    expect(Buffer.compare(copy.body, source.body)).toBe(0);
  });

  it('has the same iterations, metrics and model bytes; their manifests name the new ids', async () => {
    const before = await iterations(from, classification.id);
    const after = await iterations(to, imported.project.id);
    expect(after).toHaveLength(2);
    const strip = ({
      id: _id,
      projectId: _project,
      reproducedFrom: _from,
      manifestSha256: _manifest,
      ...rest
    }: Record<string, unknown>) => ({
      ...rest,
      labels: (rest.labels as { name: string }[] | undefined)?.map((label) => label.name),
    });
    expect(after.map(strip)).toEqual(before.map(strip));
    const [copyModel, sourceModel] = await Promise.all([
      download(to, `/v1/projects/${imported.project.id}/iterations/${after[0].id}/model`),
      download(from, `/v1/projects/${classification.id}/iterations/${trained.id}/model`),
    ]);
    expect(Buffer.compare(copyModel.body, sourceModel.body)).toBe(0);
    const [copyMetrics, sourceMetrics] = await Promise.all([
      get(to, `/v1/projects/${imported.project.id}/iterations/${after[0].id}/metrics?threshold=0.7`),
      get(from, `/v1/projects/${classification.id}/iterations/${trained.id}/metrics?threshold=0.7`),
    ]);
    expect(copyMetrics.body).toEqual(sourceMetrics.body);
    const manifest = (await get(to, `/v1/projects/${imported.project.id}/iterations/${after[0].id}/dataset`)).body;
    const importedIds = new Set((await images(to, imported.project.id)).map((image) => image.id));
    // 16 photos less the excluded one and the one left unlabeled when its label was removed: it teaches nothing.
    expect(manifest.images).toHaveLength(14);
    for (const image of manifest.images) expect(importedIds.has(image.id)).toBe(true);
    const runs = (await get(to, `/v1/projects/${imported.project.id}/iterations/${after[0].id}/test-runs`)).body.items;
    const sourceRun = (
      await get(from, `/v1/projects/${classification.id}/iterations/${trained.id}/test-runs/${testRunId}`)
    ).body;
    const copyRun = (
      await get(to, `/v1/projects/${imported.project.id}/iterations/${after[0].id}/test-runs/${runs[0].id}`)
    ).body;
    expect(copyRun.metrics).toEqual(sourceRun.metrics);
  });

  it('keeps the history: ProjectImported, then the same events with their original times, done by the importer', async () => {
    const before = await history(from, classification.id);
    const after = await history(to, imported.project.id);
    expect(after[0]).toMatchObject({
      type: 'ProjectImported',
      data: { projectId: imported.project.id, sourceProjectId: classification.id },
    });
    const copied = after.slice(1, 1 + imported.events);
    expect(copied.map((entry) => entry.type).sort()).toEqual(before.map((entry) => entry.type).sort());
    expect(copied.filter((entry) => entry.type === 'ImageUploaded').map((entry) => entry.metadata.at)).toEqual(
      before.filter((entry) => entry.type === 'ImageUploaded').map((entry) => entry.metadata.at),
    );
    for (const entry of copied) expect(entry.metadata.userId).toBe(targetUserId);
    expect(after.slice(1 + imported.events).map((entry) => entry.type)).toEqual(['DeploymentKeyRotated']);
  });

  it('gives the deployment a new key: the old one is refused, the new one predicts as the original did', async () => {
    expect(imported.deployments).toEqual([
      {
        id: expect.any(String),
        name: expect.any(String),
        apiKey: expect.stringMatching(/^dpk_/),
        keyPrefix: expect.any(String),
      },
    ]);
    const [copy] = imported.deployments;
    expect(copy.id).not.toBe(deployment.id);
    const [red] = await colouredSquares(RED, 1, 46);
    expect((await predict(target, copy.id, deployment.apiKey, red)).status).toBe(401);
    const predicted = await predict(target, copy.id, copy.apiKey, red).expect(200);
    const original = await predict(source, deployment.id, deployment.apiKey, red).expect(200);
    expect(predicted.body.predictions).toEqual(original.body.predictions);
  });

  it('trains, and reproduces an imported iteration to the same model', async () => {
    const [first] = await iterations(to, imported.project.id);
    const response = await to.http
      .post(`/v1/projects/${imported.project.id}/iterations/${first.id}/reproduce`)
      .set('Authorization', to.auth)
      .expect(202);
    const reproduced = await to.waitForIteration(imported.project.id, response.body.id);
    expect(reproduced).toMatchObject({ status: 'completed', reproduction: { sameMetrics: true, sameModel: true } });
    const fresh = await to.waitForIteration(imported.project.id, (await to.train(imported.project.id)).id);
    expect(fresh.status).toBe('completed');
  }, 90_000);

  it('imports regions of a detection project, under a new name, passing over a blob no event references', async () => {
    const entries = unzipSync(detectionArchive);
    const stray = strToU8('bytes no event of the project names');
    entries[`blobs/${createHash('sha256').update(stray).digest('hex')}`] = stray;
    const response = await importArchive(Buffer.from(zipSync(entries, { level: 0 })), 'boxes (copy)').expect(201);
    expect(response.body.project).toMatchObject({ name: 'boxes (copy)', type: 'detection' });
    expect(response.body.contents).toEqual({
      images: 3,
      labeledImages: 1,
      labels: 1,
      imageLabels: 0,
      regions: 1,
      iterations: 0,
      deployments: 0,
    });
    expect(response.body.skipped).toEqual({ unreferencedBlobs: 1 });
    const before = await images(from, detection.id);
    const after = await images(to, response.body.project.id);
    expect(after.map(comparable).sort(bySha)).toEqual(before.map(comparable).sort(bySha));
    expect(after.flatMap((image) => image.regions ?? [])).toHaveLength(1);
    const label = response.body.project.labels[0];
    expect(after.flatMap((image) => image.regions ?? [])[0].label).toEqual({ id: label.id, name: 'square' });
  });

  it('exports an imported project again: the copy of the copy keeps both imports in its history', async () => {
    const again = (await exportProject(to, imported.project.id).expect(200)).body;
    const response = await importArchive(again, 'colours, twice').expect(201);
    expect(response.body.project.labels.map((label: { name: string }) => label.name)).toEqual(['red', 'blue']);
    const imports = (await history(to, response.body.project.id)).filter((entry) => entry.type === 'ProjectImported');
    expect(imports.map((entry) => entry.data.sourceProjectId)).toEqual([imported.project.id, classification.id]);
    const copies = await images(to, response.body.project.id);
    expect(copies.map(comparable).sort(bySha)).toEqual(
      (await images(to, imported.project.id)).map(comparable).sort(bySha),
    );
  });

  it('imports an archive whose records are all ZIP64', async () => {
    const response = await importArchive(await asZip64(detectionArchive), 'boxes (zip64)').expect(201);
    const after = await images(to, response.body.project.id);
    expect(after.map(comparable).sort(bySha)).toEqual((await images(from, detection.id)).map(comparable).sort(bySha));
    expect(leftovers(target.dataDir)).toEqual([]);
  });

  it('imports in the background when asked (Prefer: respond-async): 202, then a status that gives the new keys once', async () => {
    const accepted = await importArchive(archive, 'colours (background)').set('Prefer', 'respond-async').expect(202);
    expect(accepted.body).toMatchObject({
      id: expect.any(String),
      status: 'pending',
      archiveBytes: archive.byteLength,
    });
    expect(accepted.headers.location).toBe(`/v1/projects/imports/${accepted.body.id}`);
    let status = accepted.body;
    while (status.status === 'pending') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await get(to, accepted.headers.location)).body;
    }
    expect(status).toMatchObject({ status: 'done', projectId: expect.any(String), finishedAt: expect.any(String) });
    expect(status.imported).toMatchObject({
      project: { id: status.projectId, name: 'colours (background)' },
      sourceProjectId: classification.id,
    });
    expect(status.imported.deployments).toEqual([expect.objectContaining({ apiKey: expect.stringMatching(/^dpk_/) })]);
    const again = (await get(to, accepted.headers.location)).body;
    expect(again).toMatchObject({ status: 'done', projectId: status.projectId });
    expect(again.imported).toBeUndefined();
    const [red] = await colouredSquares(RED, 1, 47);
    await predict(target, status.imported.deployments[0].id, status.imported.deployments[0].apiKey, red).expect(200);
    const stranger = new ApiClient(target, (await registerAndLogIn(target)).auth);
    const hidden = await stranger.http.get(accepted.headers.location).set('Authorization', stranger.auth).expect(404);
    expect(hidden.body.code).toBe('PROJECT_IMPORT_NOT_FOUND');
    expect(leftovers(target.dataDir)).toEqual([]);
  });

  describe('refuses a bad archive with a clear 4xx, writing nothing', () => {
    let head: number;
    beforeAll(async () => {
      // The usage of the imported deployment's predictions above is written on a timer: now, not during these cases.
      await target.app.get(UsageRecorder).flush();
      head = await target.app.get(EventStore).headPosition();
    });
    afterAll(async () => {
      expect(await target.app.get(EventStore).headPosition()).toBe(head);
    });

    const files = () => unzipSync(archive);
    const rezip = (entries: Record<string, Uint8Array>) => Buffer.from(zipSync(entries, { level: 0 }));
    const refused = async (bytes: Buffer | undefined, status: number, code: string) => {
      const response = await importArchive(bytes);
      expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
      expect(response.body.message).toEqual(expect.any(String));
      expect(leftovers(target.dataDir)).toEqual([]);
    };

    it('without a file, or with one that is not a zip', async () => {
      await refused(undefined, 400, 'ARCHIVE_REQUIRED');
      await refused(Buffer.from('not a zip at all'), 400, 'INVALID_ARCHIVE');
    });

    it('a zip that is not a project export (a model), or of another version', async () => {
      await refused(modelZip(await tinyClassifier(['red', 'blue'])), 400, 'NOT_A_PROJECT_ARCHIVE');
      const entries = files();
      const manifest = JSON.parse(new TextDecoder().decode(entries['diyml-project.json']));
      entries['diyml-project.json'] = strToU8(JSON.stringify({ ...manifest, version: 2 }));
      await refused(rezip(entries), 400, 'UNSUPPORTED_PROJECT_ARCHIVE_VERSION');
    });

    it('a blob whose bytes changed, a missing blob, or events that were tampered with', async () => {
      const changed = files();
      const image = Object.keys(changed).find((path) => path.startsWith('blobs/'))!;
      changed[image] = new Uint8Array([...changed[image], 0]);
      await refused(rezip(changed), 400, 'CORRUPT_PROJECT_ARCHIVE');

      const missing = files();
      delete missing[image];
      await refused(rezip(missing), 400, 'INCOMPLETE_PROJECT_ARCHIVE');

      const foreign = files();
      const userEvent = {
        stream: `user-${randomUUID()}`,
        type: 'UserRegistered',
        v: 2,
        data: { projectId: classification.id },
        at: new Date().toISOString(),
      };
      foreign['events/000001.jsonl'] = strToU8(
        `${new TextDecoder().decode(foreign['events/000001.jsonl'])}${JSON.stringify(userEvent)}\n`,
      );
      const manifest = JSON.parse(new TextDecoder().decode(foreign['diyml-project.json']));
      foreign['diyml-project.json'] = strToU8(JSON.stringify({ ...manifest, events: manifest.events + 1 }));
      await refused(rezip(foreign), 400, 'CORRUPT_PROJECT_ARCHIVE');

      const truncated = files();
      truncated['events/000001.jsonl'] = truncated['events/000001.jsonl'].subarray(0, 2000);
      await refused(rezip(truncated), 400, 'CORRUPT_PROJECT_ARCHIVE');
    });

    it('an archive from a newer diyml (an event type or version this one does not know): 422 UNKNOWN_EVENT_VERSIONS', async () => {
      const entries = files();
      const lines = new TextDecoder().decode(entries['events/000001.jsonl']).trim().split('\n');
      const upload = lines.findIndex((line) => JSON.parse(line).type === 'ImageUploaded');
      const newer = JSON.parse(lines[upload]);
      lines[upload] = JSON.stringify({ ...newer, v: newer.v + 1 });
      lines.push(
        JSON.stringify({
          ...newer,
          type: 'ImageGeotagged',
          v: 1,
          data: { projectId: classification.id, imageId: newer.data.imageId, latitude: 48.1 },
        }),
      );
      entries['events/000001.jsonl'] = strToU8(`${lines.join('\n')}\n`);
      const manifest = JSON.parse(new TextDecoder().decode(entries['diyml-project.json']));
      entries['diyml-project.json'] = strToU8(JSON.stringify({ ...manifest, events: manifest.events + 1 }));
      const projects = (await to.http.get('/v1/projects').set('Authorization', to.auth).expect(200)).body;
      await refused(rezip(entries), 422, 'UNKNOWN_EVENT_VERSIONS');
      const response = await importArchive(rezip(entries));
      expect(response.body.message).toContain(`ImageGeotagged@1, ImageUploaded@${newer.v + 1}`);
      expect(response.body.message).toContain('newer diyml');
      expect((await to.http.get('/v1/projects').set('Authorization', to.auth).expect(200)).body).toEqual(projects);
    });

    it('a truncated archive, or one whose central directory is damaged', async () => {
      await refused(archive.subarray(0, Math.floor(archive.byteLength / 2)), 400, 'INVALID_ARCHIVE');
      const damaged = Buffer.from(archive);
      damaged[damaged.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 1] = 0;
      await refused(damaged, 400, 'INVALID_ARCHIVE');
    });

    it('an upload cut off half-way: its temporary file is removed', async () => {
      const server = target.app.getHttpServer();
      if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const boundary = 'cut-off-upload';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="archive"; filename="p.zip"\r\nContent-Type: application/zip\r\n\r\n`;
      const upload = httpRequest({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        method: 'POST',
        path: '/v1/projects/import',
        headers: {
          Authorization: to.auth,
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': head.length + archive.byteLength + 100,
        },
      });
      upload.on('error', () => undefined);
      upload.write(head);
      upload.write(archive.subarray(0, archive.byteLength / 2));
      await until(() => leftovers(target.dataDir).length === 1, 'the upload to reach its temporary file');
      upload.destroy();
      await until(() => leftovers(target.dataDir).length === 0, 'the temporary file to be removed');
    });

    it('a zip bomb, stopped by the archive limits', async () => {
      await refused(buildZip([zeroBomb('events/000001.jsonl', 600 * 1024 * 1024)]), 413, 'ARCHIVE_RATIO_EXCEEDED');
    });
  });

  it('in the background too: the status ends failed with the code, the temporary file is gone, and only the status was written', async () => {
    const head = await target.app.get(EventStore).headPosition();
    const changed = unzipSync(archive);
    const image = Object.keys(changed).find((path) => path.startsWith('blobs/'))!;
    changed[image] = new Uint8Array([...changed[image], 0]);
    const accepted = await importArchive(Buffer.from(zipSync(changed, { level: 0 })))
      .set('Prefer', 'respond-async')
      .expect(202);
    let status = accepted.body;
    while (status.status === 'pending') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await get(to, accepted.headers.location)).body;
    }
    expect(status).toMatchObject({
      status: 'failed',
      error: { code: 'CORRUPT_PROJECT_ARCHIVE', details: { path: image } },
    });
    expect(leftovers(target.dataDir)).toEqual([]);
    const written = (await target.app.get(EventStore).readAll()).filter((event) => event.position > head);
    expect(new Set(written.map((event) => event.streamId))).toEqual(new Set([`archive-import-${accepted.body.id}`]));
    expect(written.at(-1)).toMatchObject({ type: 'ProjectImportFailed' });
  });

  it('leaves both installations replayable to the same read models (replay --verify)', async () => {
    await rebuildEqualsLive(source);
    await rebuildEqualsLive(target);
    await source.close();
    await target.close();
    for (const dataDir of [source.dataDir, target.dataDir]) {
      const report = await replayVerify(dataDir);
      expect(report).toMatchObject({ mode: 'embedded', equal: true });
    }
  }, 60_000);
});

describe('Custom Vision exportProject, importProject and getArtifact, driven by the official SDK', () => {
  let testApp: TestApp;
  let trainer: TrainingAPIClient;
  let projectId: string;
  let imageId: string;
  let iterationId: string;
  let client: ApiClient;
  let token: string;

  const restError = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(RestError);
    return error as RestError;
  };
  const bytesOf = async (stream: NodeJS.ReadableStream | undefined) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream!) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks);
  };

  beforeAll(async () => {
    testApp = await startTestApp();
    await testApp.app.listen(0, '127.0.0.1');
    const user = await registerAndLogIn(testApp);
    client = new ApiClient(testApp, user.auth);
    ({ token, trainer } = await sdkClients(testApp, user.auth));
    const project = await client.createProject('classification', ['red', 'blue'], 'sdk project');
    projectId = project.id;
    imageId = (await client.upload(projectId, await colouredSquares(RED, 6, 51), { label: 'red' }, 'red'))[0].id!;
    await client.upload(projectId, await colouredSquares(BLUE, 6, 52), { label: 'blue' }, 'blue');
    await client.configureTraining(projectId, CONFIG);
    iterationId = (await client.waitForIteration(projectId, (await client.train(projectId)).id)).id;
  }, 120_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('exports to a token that imports a copy under a new name', async () => {
    const exported = await trainer.exportProject(projectId);
    expect(exported).toMatchObject({
      iterationCount: 1,
      imageCount: 12,
      tagCount: 2,
      regionCount: 0,
      token: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(exported.estimatedImportTimeInMS).toBeGreaterThan(0);
    const copy = await trainer.importProject(exported.token!, { name: 'sdk project (copy)' });
    expect(copy).toMatchObject({ name: 'sdk project (copy)' });
    expect(copy.id).not.toBe(projectId);
    expect(await trainer.getTags(copy.id!)).toHaveLength(2);
    expect(await trainer.getIterations(copy.id!)).toEqual([expect.objectContaining({ status: 'Completed' })]);
    expect((await trainer.getProjects()).map((project) => project.name).sort()).toEqual([
      'sdk project',
      'sdk project (copy)',
    ]);
  }, 60_000);

  it('refuses a token that names no export', async () => {
    const notAToken = await restError(trainer.importProject('nope'));
    expect([notAToken.statusCode, notAToken.code]).toEqual([400, 'BadRequestInvalidImportToken']);
    const imageBlob = (
      await client.http.get(`/v1/projects/${projectId}/images/${imageId}`).set('Authorization', client.auth).expect(200)
    ).body.sha256;
    const notAnExport = await restError(trainer.importProject(imageBlob));
    expect([notAnExport.statusCode, notAnExport.code]).toEqual([400, 'BadRequestInvalidImportToken']);
  });

  it('reads artifacts by relative path: an image, an iteration model', async () => {
    const image = await trainer.getArtifact(projectId, `images/${imageId}`);
    const original = await client.http
      .get(`/v1/projects/${projectId}/images/${imageId}/content`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse(binary)
      .expect(200);
    expect(Buffer.compare(await bytesOf(image.readableStreamBody), original.body)).toBe(0);
    const model = await trainer.getArtifact(projectId, `iterations/${iterationId}/model`);
    expect(unzipSync(await bytesOf(model.readableStreamBody))['model.json']).toBeInstanceOf(Uint8Array);
    // The SDK does not read error bodies of this stream operation: the status is what it reports.
    expect((await restError(trainer.getArtifact(projectId, 'exports/whatever'))).statusCode).toBe(400);
    const unknown = await client.http
      .get(`/customvision/v3.3/training/projects/${projectId}/artifacts?path=exports/whatever`)
      .set('Training-Key', token);
    expect([unknown.status, unknown.body.code]).toEqual([400, 'BadRequestInvalidArtifactUri']);
    const elsewhere = await client.http
      .get(`/customvision/v3.3/training/projects/${randomUUID()}/artifacts?path=images/${imageId}`)
      .set('Training-Key', token);
    expect([elsewhere.status, elsewhere.body.code]).toEqual([404, 'NotFoundProject']);
  });
});
