import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '@diyml/ml';
import { barsImage } from '@diyml/ml/testing/synthetic-images.js';
import { tinyBackboneDescriptor } from '@diyml/ml/testing/tiny-backbone.js';
import { ApiClient } from './support/api-client.js';
import { startBackboneHost } from './support/backbone-host.js';
import { BLUE, colouredSquares, encodePng, RED, squareScenes } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/** The phases before a backbone detector's first epoch, in the order they run. */
const PREPARATION_ORDER = ['reading', 'decoding', 'feature-maps'];

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * Images of horizontal or vertical bars, by default 96-px photos-sized ones (the size from which 'auto' picks a
 * backbone); tests that name their architecture take 32-px ones (the tiny backbone's input size), a ninth of the
 * pixels to generate.
 */
async function bars(
  orientation: 'horizontal' | 'vertical',
  count: number,
  seed: number,
  size: 96 | 32 = 96,
): Promise<Buffer[]> {
  const random = new SeededRandom(seed);
  return Promise.all(Array.from({ length: count }, () => encodePng(barsImage(orientation, size, random))));
}

describe('pretrained backbones over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let host: Awaited<ReturnType<typeof startBackboneHost>>;

  // Building the tiny backbone and booting the api took over 30 s on a loaded machine (load average 20, 2 cores).
  beforeAll(async () => {
    host = await startBackboneHost('tiny-url', ({ url, sha256: sums }) => [
      tinyBackboneDescriptor('tiny-tampered', {
        kind: 'url',
        url,
        sha256: { ...sums, 'weights.bin': sha256('something else') },
      }),
      tinyBackboneDescriptor('tiny-offline', { kind: 'url', url: 'http://127.0.0.1:9/model.json', sha256: sums }),
    ]);
    testApp = await startTestApp({ settings: { BACKBONES_FILE: host.backbonesFile } });
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  }, 120_000);
  afterAll(async () => {
    await testApp.destroy();
    await host.close();
  });

  /** Polls the test run `request` started (under `runs`) until it is no longer requested. */
  const testRunToEnd = async (runs: string, request: Promise<{ body: { id: string } }>) => {
    const { id } = (await request).body;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await client.http.get(`${runs}/${id}`).set('Authorization', client.auth).expect(200);
      if (response.body.status !== 'requested') return response.body;
      if (Date.now() > deadline) throw new Error('test run still requested after 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const put = (projectId: string, body: Record<string, unknown>) =>
    client.http.put(`/v1/projects/${projectId}/training-config`).set('Authorization', client.auth).send(body);

  it('lists the backbones: the MobileNetV2 shipped in nsfwjs by default, and those configured by URL', async () => {
    const response = await client.http.get('/v1/backbones').set('Authorization', client.auth).expect(200);
    const mobilenet = response.body.find((backbone: { id: string }) => backbone.id === 'mobilenet-v2');
    expect(mobilenet).toMatchObject({
      isDefault: true,
      inputSize: 224,
      inputRange: [0, 1],
      embeddingLayer: 'block_13_expand_relu',
      source: { kind: 'npm-package', package: 'nsfwjs' },
    });
    expect(mobilenet.featureLayers).toContainEqual({ name: 'block_13_expand_relu', stride: 16, channels: 576 });
    expect(response.body.find((backbone: { id: string }) => backbone.id === 'tiny-url')).toMatchObject({
      isDefault: false,
      source: { kind: 'url' },
    });
    await client.http.get('/v1/backbones').expect(401);
  });

  it('defaults new classification projects to the architecture chosen from the data', async () => {
    const project = await client.createProject('classification', ['a', 'b']);
    const config = await client.http
      .get(`/v1/projects/${project.id}/training-config`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(config.body).toMatchObject({ architecture: 'auto', backbone: null });
  });

  it('refuses an unknown backbone (400), and backbones whose weights fail their checksum or cannot be fetched (422), at configuration', async () => {
    const project = await client.createProject('classification', ['a', 'b']);
    const unknown = await put(project.id, { backbone: 'resnet-9000' }).expect(400);
    expect(unknown.body).toMatchObject({ code: 'UNKNOWN_BACKBONE', details: [{ field: 'backbone' }] });
    expect(unknown.body.details[0].known).toEqual(expect.arrayContaining(['mobilenet-v2', 'tiny-url']));

    const tampered = await put(project.id, { architecture: 'backbone-classifier', backbone: 'tiny-tampered' }).expect(
      422,
    );
    expect(tampered.body.code).toBe('BACKBONE_CHECKSUM_MISMATCH');
    expect(tampered.body.message).toContain('weights.bin');

    const offline = await put(project.id, { backbone: 'tiny-offline' }).expect(422);
    expect(offline.body.code).toBe('BACKBONE_DOWNLOAD_FAILED');
    expect(offline.body.message).toContain('http://127.0.0.1:9/model.json');

    const config = await client.http
      .get(`/v1/projects/${project.id}/training-config`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(config.body.backbone).toBeNull();
  });

  it('refuses to queue an iteration on an unusable backbone, recording nothing', async () => {
    const project = await client.createProject('classification', ['horizontal', 'vertical']);
    // From scratch by default, so no upload starts background embeddings on the default MobileNetV2.
    await client.configureTraining(project.id, { architecture: 'small-cnn' });
    await client.upload(project.id, await bars('horizontal', 5, 1, 32), { label: 'horizontal' }, 'h');
    await client.upload(project.id, await bars('vertical', 5, 2, 32), { label: 'vertical' }, 'v');
    const response = await client.http
      .post(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .send({ trainingConfig: { architecture: 'backbone-classifier', backbone: 'tiny-offline' } })
      .expect(422);
    expect(response.body.code).toBe('BACKBONE_DOWNLOAD_FAILED');
    const iterations = await client.http
      .get(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(iterations.body.items).toHaveLength(0);
  });

  it('refuses fine-tuning at queue time where it cannot apply (422 FINE_TUNE_UNSUPPORTED), recording nothing', async () => {
    const project = await client.createProject('classification', ['horizontal', 'vertical']);
    await client.configureTraining(project.id, { architecture: 'small-cnn' });
    await client.upload(project.id, await bars('horizontal', 5, 11, 32), { label: 'horizontal' }, 'h');
    await client.upload(project.id, await bars('vertical', 5, 12, 32), { label: 'vertical' }, 'v');
    const queue = (trainingConfig: Record<string, unknown>) =>
      client.http
        .post(`/v1/projects/${project.id}/iterations`)
        .set('Authorization', client.auth)
        .send({ trainingConfig });

    const fromScratch = await queue({ fineTune: 1 }).expect(422);
    expect(fromScratch.body).toMatchObject({
      code: 'FINE_TUNE_UNSUPPORTED',
      details: [{ field: 'trainingConfig.fineTune' }],
    });
    expect(fromScratch.body.message).toContain('small-cnn');
    const tooMany = await queue({ architecture: 'backbone-classifier', backbone: 'tiny-url', fineTune: 2 }).expect(422);
    expect(tooMany.body.message).toContain('this backbone has 1 block(s) to fine-tune');
    const outOfRange = await queue({ fineTune: 5 }).expect(400);
    expect(outOfRange.body.details).toEqual([
      { field: 'trainingConfig.fineTune', errors: ['trainingConfig.fineTune must be an integer from 0 to 2'] },
    ]);
    const iterations = await client.http
      .get(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(iterations.body.items).toHaveLength(0);
  });

  /** The project's background embedding tables, once they hold `images` images. */
  async function embeddedInBackground(projectId: string, images: number) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await client.http
        .get(`/v1/projects/${projectId}/embeddings`)
        .set('Authorization', client.auth)
        .expect(200);
      if (response.body.items.some((table: { imageCount: number }) => table.imageCount >= images))
        return response.body.items;
      if (Date.now() > deadline) throw new Error(`background embeddings: ${JSON.stringify(response.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('trains photos on a backbone fetched once by URL, predicts from an image, and reproduces the model byte for byte', async () => {
    const project = await client.createProject('classification', ['horizontal', 'vertical']);
    await client.configureTraining(project.id, { backbone: 'tiny-url' });
    expect(readdirSync(join(testApp.dataDir, 'backbones', 'tiny-url'))).toHaveLength(2);
    await client.upload(project.id, await bars('horizontal', 20, 3), { label: 'horizontal' }, 'h');
    await client.upload(project.id, await bars('vertical', 20, 4), { label: 'vertical' }, 'v');
    // Embedded in the background after the upload, in the views training uses.
    const [table] = await embeddedInBackground(project.id, 40);
    expect(table).toMatchObject({ backbone: 'tiny-url', layer: 'stage_2', imageCount: 40 });

    const queued = await client.train(project.id);
    const iteration = await client.waitForIteration(project.id, queued.id);
    expect(iteration).toMatchObject({
      status: 'completed',
      architecture: 'backbone-classifier',
      trainingConfig: { architecture: 'backbone-classifier', backbone: 'tiny-url' },
    });
    expect(iteration.metrics.accuracy).toBeGreaterThanOrEqual(0.8);
    // 32 training photos in 4 views and 8 validation photos plain, all from the background table.
    expect(iteration.embeddings).toMatchObject({ computed: 0, reused: 32 * 4 + 8 });

    const deployment = await client.http
      .post(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId: queued.id })
      .expect(201);
    for (const [orientation, seed] of [
      ['vertical', 50],
      ['horizontal', 51],
    ] as const) {
      const [image] = await bars(orientation, 1, seed);
      const prediction = await testApp.http
        .post(`/v1/predict/${deployment.body.id}`)
        .set('Content-Type', 'image/png')
        .set('X-Api-Key', deployment.body.apiKey)
        .send(image)
        .expect(200);
      expect(prediction.body.predictions[0].label).toBe(orientation);
    }

    const reproduction = await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/reproduce`)
      .set('Authorization', client.auth)
      .expect(202);
    const reproduced = await client.waitForIteration(project.id, reproduction.body.id);
    expect(reproduced.reproduction).toEqual({ sameMetrics: true, sameModel: true });
    expect(reproduced.embeddings).toMatchObject({ computed: 0, reused: 32 * 4 + 8 });

    // Photos uploaded later are embedded in the background too; a new iteration computes none of them.
    await client.upload(project.id, await bars('horizontal', 1, 5), { label: 'horizontal' }, 'h-more');
    await client.upload(project.id, await bars('vertical', 1, 6), { label: 'vertical' }, 'v-more');
    await embeddedInBackground(project.id, 42);
    const next = await client.waitForIteration(project.id, (await client.train(project.id)).id);
    expect(next.status).toBe('completed');
    expect(next.embeddings).toMatchObject({ computed: 0 });
    expect(next.embeddings.reused).toBeGreaterThanOrEqual(100);
  }, 120_000);

  it('caches detection feature maps: a later iteration computes none, and a reproduction is byte for byte the same', async () => {
    const project = await client.createProject('detection', ['red', 'blue']);
    await client.configureTraining(project.id, { architecture: 'backbone-detector', backbone: 'tiny-url', epochs: 3 });
    // At least 15 boxes of each colour, as a detector needs.
    const scenes = await squareScenes([RED, BLUE], 40, 21, 64);
    const uploaded = await client.upload(
      project.id,
      scenes.map((scene) => scene.png),
      {},
      'scene',
    );
    for (const [index, scene] of scenes.entries()) {
      const regions = scene.boxes.map(({ label, x, y, width, height }) => ({
        label: ['red', 'blue'][label],
        x,
        y,
        width,
        height,
      }));
      await client.http
        .put(`/v1/projects/${project.id}/images/${uploaded[index].id}/regions`)
        .set('Authorization', client.auth)
        .send({ regions })
        .expect(200);
    }

    const queued = await client.train(project.id);
    // Watched from the start: before the first epoch, the stream tells how far reading and the feature maps are.
    const events = await client.iterationEvents(project.id, queued.id);
    const firstEpoch = events.findIndex(
      (event) => event.type === 'batch' || (event.type === 'iteration' && (event.data.history as []).length > 0),
    );
    const preparation = events.filter((event) => event.type === 'preparation');
    expect(preparation.length).toBeGreaterThan(0);
    expect(events.slice(0, firstEpoch).filter((event) => event.type === 'preparation')).toEqual(preparation);
    const phases = preparation.map((event) => event.data.phase as string);
    expect(phases).toEqual([...phases].sort((a, b) => PREPARATION_ORDER.indexOf(a) - PREPARATION_ORDER.indexOf(b)));
    for (const { data } of preparation) {
      expect(data).toEqual({
        attempt: 1,
        phase: expect.any(String),
        done: expect.any(Number),
        total: { reading: 40, decoding: 40, 'feature-maps': 32 * 4 + 8 }[data.phase as string],
        cached: 0,
        elapsedMs: expect.any(Number),
        perSecond: expect.any(Number),
        reportedAt: expect.any(String),
      });
      expect(data.done).toBeLessThanOrEqual(data.total as number);
    }
    const first = await client.iteration(project.id, queued.id);
    expect(first).toMatchObject({ status: 'completed', architecture: 'backbone-detector', embeddings: { reused: 0 } });
    // 32 training photos as they are and in 3 augmented views, 8 validation photos as they are.
    expect(first.embeddings.computed).toBe(32 * 4 + 8);

    const second = await client.waitForIteration(project.id, (await client.train(project.id)).id);
    expect(second).toMatchObject({
      status: 'completed',
      embeddings: { computed: 0, reused: first.embeddings.computed },
    });

    const reproduction = await client.http
      .post(`/v1/projects/${project.id}/iterations/${first.id}/reproduce`)
      .set('Authorization', client.auth)
      .expect(202);
    const reproduced = await client.waitForIteration(project.id, reproduction.body.id);
    expect(reproduced.reproduction).toEqual({ sameMetrics: true, sameModel: true });
    expect(reproduced.embeddings).toMatchObject({ computed: 0, reused: first.embeddings.computed });

    // A test run reads the maps the iteration's training cached for its photos; new photos go through the backbone.
    const newScenes = await squareScenes([RED, BLUE], 2, 22, 64);
    const tested = [...scenes.slice(0, 6), ...newScenes].map((scene, index) => ({ ...scene, name: `t${index}.png` }));
    const runs = `/v1/projects/${project.id}/iterations/${first.id}/test-runs`;
    let request = client.http.post(runs).set('Authorization', client.auth);
    for (const scene of tested) request = request.attach('images', scene.png, scene.name);
    const labels = Object.fromEntries(
      tested.map((scene) => [
        scene.name,
        scene.boxes.map(({ label, ...box }) => ({ label: ['red', 'blue'][label], ...box })),
      ]),
    );
    const run = await testRunToEnd(runs, request.field('labels', JSON.stringify(labels)).expect(202));
    expect(run).toMatchObject({ status: 'completed', imageCount: 8, embeddings: { computed: 2, reused: 6 } });

    // The new photos' maps joined the project's cache: a second test run over the same photos computes none, and
    // scores them the same.
    let again = client.http.post(runs).set('Authorization', client.auth);
    for (const scene of tested) again = again.attach('images', scene.png, scene.name);
    const rerun = await testRunToEnd(runs, again.field('labels', JSON.stringify(labels)).expect(202));
    expect(rerun).toMatchObject({ status: 'completed', imageCount: 8, embeddings: { computed: 0, reused: 8 } });
    expect(rerun.metrics).toEqual(run.metrics);
    const scored = (predictions: { imageUrl: string }[]) => predictions.map(({ imageUrl: _url, ...result }) => result);
    expect(scored(rerun.predictions)).toEqual(scored(run.predictions));
    const caches = await client.http.get(`/v1/projects/${project.id}/embeddings`).set('Authorization', client.auth);
    expect(caches.body.items).toEqual([
      expect.objectContaining({ backbone: 'tiny-url', preprocessing: expect.stringMatching(/-maps$/), imageCount: 2 }),
    ]);

    // The head on cached maps finds what the deployed model finds from the photos.
    const deployment = await client.http
      .post(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId: first.id })
      .expect(201);
    for (const [index, scene] of tested.entries()) {
      const response = await testApp.http
        .post(`/v1/predict/${deployment.body.id}?threshold=0.05`)
        .set('Content-Type', 'image/png')
        .set('X-Api-Key', deployment.body.apiKey)
        .send(scene.png)
        .expect(200);
      const whole: { label: string; probability: number; box: Record<string, number> }[] = response.body.predictions;
      const result = run.predictions[index];
      expect(result.confidence).toBeCloseTo(whole[0]?.probability ?? 0, 4);
      const shown = whole.filter((prediction) => prediction.probability >= 0.5);
      expect(result.predicted.map((box: { label: string }) => box.label)).toEqual(shown.map((box) => box.label));
      result.predicted.forEach((box: Record<string, number>, position: number) => {
        for (const side of ['x', 'y', 'width', 'height']) expect(box[side]).toBeCloseTo(shown[position].box[side], 4);
      });
    }
  }, 120_000);

  it('tests a backbone model from cached embeddings: photos embedded for one test run are not embedded again', async () => {
    const project = await client.createProject('classification', ['horizontal', 'vertical']);
    await client.configureTraining(project.id, {
      backbone: 'tiny-url',
      augmentation: { horizontalFlip: false, cropScale: 1 },
    });
    await client.upload(project.id, await bars('horizontal', 12, 21), { label: 'horizontal' }, 'h');
    await client.upload(project.id, await bars('vertical', 12, 22), { label: 'vertical' }, 'v');
    await client.upload(project.id, await bars('horizontal', 2, 23), { label: 'horizontal', split: 'test' }, 'test-h');
    await client.upload(project.id, await bars('vertical', 2, 24), { label: 'vertical', split: 'test' }, 'test-v');
    const iterationId = (await client.train(project.id)).id;
    expect((await client.waitForIteration(project.id, iterationId)).status).toBe('completed');
    const runs = `/v1/projects/${project.id}/iterations/${iterationId}/test-runs`;
    const runToEnd = (request: Promise<{ body: { id: string } }>) => testRunToEnd(runs, request);

    // The test split was embedded in the background after its upload.
    await embeddedInBackground(project.id, 28);
    const split = await runToEnd(
      client.http.post(runs).set('Authorization', client.auth).send({ split: 'test' }).expect(202),
    );
    expect(split).toMatchObject({ status: 'completed', imageCount: 4, embeddings: { computed: 0, reused: 4 } });

    const photos = [...(await bars('horizontal', 3, 25)), ...(await bars('vertical', 3, 26))].map((bytes, i) => ({
      name: `${i < 3 ? 'h' : 'v'}${i}.png`,
      bytes,
    }));
    const labels = JSON.stringify(
      Object.fromEntries(photos.map((photo) => [photo.name, photo.name.startsWith('h') ? 'horizontal' : 'vertical'])),
    );
    const uploadRun = () => {
      let request = client.http.post(runs).set('Authorization', client.auth);
      for (const photo of photos) request = request.attach('images', photo.bytes, photo.name);
      return request.field('labels', labels).expect(202);
    };
    const first = await runToEnd(uploadRun());
    expect(first).toMatchObject({ status: 'completed', embeddings: { computed: 6, reused: 0 } });
    // Added to the project's cache, as background embeddings are.
    await embeddedInBackground(project.id, 34);
    const second = await runToEnd(uploadRun());
    expect(second).toMatchObject({ status: 'completed', embeddings: { computed: 0, reused: 6 } });
    const results = (run: { predictions: { imageUrl: string }[] }) =>
      run.predictions.map(({ imageUrl, ...result }) => result);
    expect(results(second)).toEqual(results(first));

    // The head on cached embeddings predicts what the deployed model predicts from the photos.
    const deployment = await client.http
      .post(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId })
      .expect(201);
    for (const [index, photo] of photos.entries()) {
      const response = await testApp.http
        .post(`/v1/predict/${deployment.body.id}`)
        .set('Content-Type', 'image/png')
        .set('X-Api-Key', deployment.body.apiKey)
        .send(photo.bytes)
        .expect(200);
      expect(first.predictions[index]).toMatchObject({
        filename: photo.name,
        predicted: response.body.predictions[0].label,
      });
      expect(first.predictions[index].confidence).toBeCloseTo(response.body.predictions[0].probability, 3);
    }

    // Label suggestions take the embeddings of unlabeled photos from the cache too (embedded after their upload).
    const unlabeledPhotos = await bars('vertical', 2, 27);
    const unlabeled = await client.upload(project.id, unlabeledPhotos, {}, 'unlabeled');
    const [table] = await embeddedInBackground(project.id, 36);
    const suggestions = `/v1/projects/${project.id}/iterations/${iterationId}/suggestions`;
    const requested = await client.http.post(suggestions).set('Authorization', client.auth).send({}).expect(202);
    const deadline = Date.now() + 60_000;
    while (
      (await client.http.get(`${suggestions}/runs/${requested.body.id}`).set('Authorization', client.auth).expect(200))
        .body.status === 'requested'
    ) {
      if (Date.now() > deadline) throw new Error('suggestion run still requested after 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const suggested = (await client.http.get(suggestions).set('Authorization', client.auth).expect(200)).body.items as {
      imageId: string;
      predictions: { label: string }[];
    }[];
    expect(suggested.map((suggestion) => suggestion.imageId).sort()).toEqual(unlabeled.map((item) => item.id).sort());
    for (const [index, item] of unlabeled.entries()) {
      const response = await testApp.http
        .post(`/v1/predict/${deployment.body.id}`)
        .set('Content-Type', 'image/png')
        .set('X-Api-Key', deployment.body.apiKey)
        .send(unlabeledPhotos[index])
        .expect(200);
      expect(suggested.find((suggestion) => suggestion.imageId === item.id)!.predictions[0].label).toBe(
        response.body.predictions[0].label,
      );
    }
    const [after] = (
      await client.http.get(`/v1/projects/${project.id}/embeddings`).set('Authorization', client.auth).expect(200)
    ).body.items;
    expect(after).toMatchObject({ imageCount: 36, updatedAt: table.updatedAt });
  }, 180_000);

  it("embeds a project's photos again on the backbone a new training configuration names", async () => {
    const project = await client.createProject('classification', ['horizontal', 'vertical']);
    await client.configureTraining(project.id, { architecture: 'small-cnn' });
    await client.upload(project.id, await bars('horizontal', 3, 9, 32), { label: 'horizontal' }, 'h');
    await client.upload(project.id, await bars('vertical', 3, 10, 32), { label: 'vertical' }, 'v');
    const before = await client.http
      .get(`/v1/projects/${project.id}/embeddings`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(before.body.items).toEqual([]);

    await client.configureTraining(project.id, {
      architecture: 'backbone-classifier',
      backbone: 'tiny-url',
      augmentation: { horizontalFlip: false },
    });
    const [table] = await embeddedInBackground(project.id, 6);
    expect(table).toMatchObject({ backbone: 'tiny-url', imageCount: 6 });
    await client.http.get(`/v1/projects/${project.id}/embeddings`).expect(401);
    const stranger = await registerAndLogIn(testApp);
    const hidden = await client.http
      .get(`/v1/projects/${project.id}/embeddings`)
      .set('Authorization', stranger.auth)
      .expect(404);
    expect(hidden.body.code).toBe('PROJECT_NOT_FOUND');
  }, 60_000);

  it("records the background embedding of an upload as the system's, in the upload's request", async () => {
    const project = await client.createProject('classification', ['horizontal', 'vertical']);
    await client.configureTraining(project.id, { backbone: 'tiny-url', augmentation: { horizontalFlip: false } });
    await client.upload(project.id, await bars('horizontal', 2, 61), { label: 'horizontal' }, 'h');
    await embeddedInBackground(project.id, 2);
    type Entry = { type: string; metadata: { userId: string | null; correlationId: string } };
    const history = async (query: Record<string, string>) =>
      (
        await client.http
          .get(`/v1/projects/${project.id}/history`)
          .query({ limit: '200', ...query })
          .set('Authorization', client.auth)
          .expect(200)
      ).body.items as Entry[];
    const all = await history({});
    const uploads = all.filter((entry) => entry.type === 'ImageUploaded');
    const embedded = all.filter((entry) => entry.type === 'EmbeddingTableUpdated');
    expect(uploads).toHaveLength(2);
    expect(embedded.length).toBeGreaterThan(0);
    const uploader = uploads[0].metadata.userId;
    expect(uploader).toEqual(expect.any(String));
    // Done by the system, yet in the correlation of the upload that led to it.
    for (const entry of embedded) {
      expect(entry.metadata.userId).toBeNull();
      expect(uploads.map((upload) => upload.metadata.correlationId)).toContain(entry.metadata.correlationId);
    }
    expect((await history({ user: 'system' })).map((entry) => entry.type)).toEqual(
      embedded.map(() => 'EmbeddingTableUpdated'),
    );
    expect((await history({ user: uploader! })).map((entry) => entry.type)).not.toContain('EmbeddingTableUpdated');
  }, 60_000);

  it("uses another iteration's model as the backbone (baseIterationId), e.g. an imported one", async () => {
    const project = await client.createProject('classification', ['horizontal', 'vertical']);
    await client.configureTraining(project.id, { architecture: 'small-cnn' });
    await client.upload(project.id, await bars('horizontal', 12, 7, 32), { label: 'horizontal' }, 'h');
    await client.upload(project.id, await bars('vertical', 12, 8, 32), { label: 'vertical' }, 'v');
    const base = await client.waitForIteration(
      project.id,
      (await client.train(project.id, { architecture: 'small-cnn', imageSize: 32, epochs: 2 })).id,
    );
    expect(base.status).toBe('completed');

    const queued = await client.train(project.id, { architecture: 'backbone-classifier', baseIterationId: base.id });
    const iteration = await client.waitForIteration(project.id, queued.id);
    expect(iteration).toMatchObject({
      status: 'completed',
      architecture: 'backbone-classifier',
      baseModelSha256: base.model.sha256,
    });
    const deployment = await client.http
      .post(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId: queued.id })
      .expect(201);
    const [image] = await bars('vertical', 1, 60, 32);
    const prediction = await testApp.http
      .post(`/v1/predict/${deployment.body.id}`)
      .set('Content-Type', 'image/png')
      .set('X-Api-Key', deployment.body.apiKey)
      .send(image)
      .expect(200);
    expect(prediction.body.predictions.map((p: { label: string }) => p.label).sort()).toEqual([
      'horizontal',
      'vertical',
    ]);
  }, 120_000);

  it('keeps small-cnn for tiny images', async () => {
    const project = await client.createProject('classification', ['red', 'blue']);
    await client.upload(project.id, await colouredSquares(RED, 6, 5), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 6, 6), { label: 'blue' }, 'blue');
    const queued = await client.train(project.id, { epochs: 1 });
    const iteration = await client.waitForIteration(project.id, queued.id);
    expect(iteration).toMatchObject({
      status: 'completed',
      architecture: 'small-cnn',
      trainingConfig: { architecture: 'small-cnn' },
    });
    expect(existsSync(join(testApp.dataDir, 'backbones', 'mobilenet-v2'))).toBe(false);
  }, 60_000);
});
