import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED, squareScenes } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

type StreamedEvent = Awaited<ReturnType<ApiClient['iterationEvents']>>[number];
type Queued = Awaited<ReturnType<ApiClient['train']>>;
type Iteration = Awaited<ReturnType<ApiClient['waitForIteration']>>;

/** Custom Vision's detection quickstart: fork_1..20.jpg and scissors_1..20.jpg with their boxes in COCO form. */
const QUICKSTART = '/work/shared/datasets/custom-vision-samples/detection';

const FAST = {
  imageSize: 16,
  epochs: 10,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

describe('training over HTTP on the embedded stack', () => {
  let testApp: TestApp;
  let client: ApiClient;

  /** The property names the served OpenAPI document gives a component schema. */
  const documented = async (name: string): Promise<string[]> => {
    const document = (await testApp.http.get('/docs-json').expect(200)).body as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    return Object.keys(document.components.schemas[name]?.properties ?? {}).sort();
  };

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('refuses to train on a dataset that is not ready, naming the problems', async () => {
    const project = await client.createProject('classification', ['only']);
    const response = await client.http
      .post(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .send({});
    expect(response.status).toBe(422);
    expect(response.body.code).toBe('DATASET_NOT_READY');
    expect(response.body.details.problems.map((problem: { code: string }) => problem.code)).toEqual([
      'TOO_FEW_LABELS',
      'TOO_FEW_IMAGES',
    ]);
    // Sentences a person reads, one per problem, although each problem has a ';' of its own.
    expect(response.body.message).toBe(
      'The dataset is not ready for training. A classification project needs at least 2 labels; it has 1. ' +
        'Label "only" has 0 included training images; it needs at least 5.',
    );
  });

  it('rejects an out-of-range override with 400 naming the field', async () => {
    const project = await client.createProject('classification', ['a', 'b']);
    const response = await client.http
      .post(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .send({ trainingConfig: { epochs: 0 } });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.details)).toContain('trainingConfig.epochs');
  });

  /** The red-or-blue classifier the first test trains and checks; the transfer test builds on it (a training fewer). */
  let classifier: Promise<{ project: { id: string }; queued: Queued; iteration: Iteration }> | undefined;
  const trainedClassifier = () =>
    (classifier ??= (async () => {
      const project = await client.createProject('classification', ['red', 'blue']);
      await client.upload(project.id, await colouredSquares(RED, 20, 1), { label: 'red' }, 'red');
      await client.upload(project.id, await colouredSquares(BLUE, 20, 2), { label: 'blue' }, 'blue');
      await client.configureTraining(project.id, FAST);
      const queued = await client.train(project.id);
      return { project, queued, iteration: await client.waitForIteration(project.id, queued.id) };
    })());

  it('trains a classifier that tells red from blue squares, with progress, metrics and artifacts', async () => {
    const { project, queued, iteration } = await trainedClassifier();
    expect(queued).toMatchObject({ number: 1, status: 'queued' });

    expect(iteration.status).toBe('completed');
    expect(iteration.history).toHaveLength(10);
    expect(iteration.progress).toEqual({ epoch: 10, epochs: 10 });
    expect(iteration.history[9].valAccuracy).toBeGreaterThanOrEqual(0.85);
    expect(['wasm', 'cpu', 'tensorflow']).toContain(iteration.backend);
    expect(iteration.metrics.accuracy).toBeGreaterThanOrEqual(0.85);

    const metrics = await client.http
      .get(`/v1/projects/${project.id}/iterations/${queued.id}/metrics?threshold=0.5`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(metrics.body.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(metrics.body.perLabel.map((label: { label: string }) => label.label).sort()).toEqual(['blue', 'red']);
    expect(metrics.body.confusionMatrix.labels).toHaveLength(2);
    const strict = await client.http
      .get(`/v1/projects/${project.id}/iterations/${queued.id}/metrics?threshold=1`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(strict.body.accuracy).toBeLessThanOrEqual(metrics.body.accuracy);

    // The document describes what a client gets, field by field: typed clients need no casts.
    const iterationFields = await documented('IterationDto');
    const answered = (await client.iteration(project.id, queued.id)) as Record<string, unknown>;
    expect(Object.keys(answered).filter((key) => !iterationFields.includes(key))).toEqual([]);
    expect(Object.keys(iteration.model).sort()).toEqual(await documented('ModelBlobDto'));
    expect(Object.keys(iteration.metrics).sort()).toEqual(await documented('ClassificationMetricsDto'));
    expect(Object.keys(metrics.body).sort()).toEqual(await documented('ClassificationMetricsWithApDto'));
    expect(Object.keys(metrics.body.perLabel[0]).sort()).toEqual(
      await documented('ClassificationLabelMetricsWithApDto'),
    );
    expect(Object.keys(metrics.body.confusionMatrix).sort()).toEqual(await documented('ConfusionMatrixDto'));
    expect(await documented('ReproductionOutcomeDto')).toEqual(['sameMetrics', 'sameModel']);

    const dataset = await client.http
      .get(`/v1/projects/${project.id}/iterations/${queued.id}/dataset`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(dataset.body.images).toHaveLength(40);
    expect(dataset.body.labels.map((label: { name: string }) => label.name)).toEqual(['red', 'blue']);

    const model = await client.http
      .get(`/v1/projects/${project.id}/iterations/${queued.id}/model`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(model.headers['content-type']).toBe('application/zip');
    expect(Object.keys(unzipSync(new Uint8Array(model.body as Buffer))).sort()).toEqual([
      'metadata.json',
      'model.json',
      'weights.bin',
    ]);

    const list = await client.http
      .get(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([queued.id]);
  });

  it("trains a transfer model on top of an earlier iteration's model, and says what is missing when it cannot", async () => {
    const { project, iteration: base } = await trainedClassifier();
    expect(base.status).toBe('completed');

    const missing = await client.http
      .post(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .send({ trainingConfig: { architecture: 'transfer' } });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('BASE_MODEL_REQUIRED');
    const unknown = await client.http
      .post(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .send({ trainingConfig: { architecture: 'transfer', baseIterationId: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('BASE_MODEL_UNAVAILABLE');

    const queued = await client.train(project.id, {
      architecture: 'transfer',
      baseIterationId: base.id,
      epochs: 15,
      batchSize: 8,
      learningRate: 0.05,
      seed: 3,
    });
    const transfer = await client.waitForIteration(project.id, queued.id);
    expect(transfer.status).toBe('completed');
    expect(transfer.architecture).toBe('transfer');
    expect(transfer.trainingConfig.baseIterationId).toBe(base.id);
    expect(transfer.baseModelSha256).toBe(base.model.sha256);
    expect(transfer.metrics.accuracy).toBeGreaterThanOrEqual(0.8);
  });

  /**
   * One training watched from its queueing to its end, read by both streaming tests (a training thread fewer): about
   * 38 training images in batches of 2, some 19 batches an epoch for 15 epochs.
   */
  let streamed: Promise<{ projectId: string; iterationId: string; events: StreamedEvent[] }> | undefined;
  const streamedTraining = () =>
    (streamed ??= (async () => {
      const project = await client.createProject('classification', ['red', 'blue']);
      await client.upload(project.id, await colouredSquares(RED, 24, 31), { label: 'red' }, 'red');
      await client.upload(project.id, await colouredSquares(BLUE, 24, 32), { label: 'blue' }, 'blue');
      const queued = await client.train(project.id, { ...FAST, epochs: 15, batchSize: 2 });
      const events = await client.iterationEvents(project.id, queued.id);
      return { projectId: project.id, iterationId: queued.id, events };
    })());

  it('streams progress as Server-Sent Events until the final status', async () => {
    const { events } = await streamedTraining();
    const statuses = events.filter((event) => event.type === 'iteration').map((event) => event.data.status);
    expect(statuses[statuses.length - 1]).toBe('completed');
    expect(statuses.filter((status) => status === 'running').length).toBeGreaterThan(0);
    expect(events[events.length - 1].type).toBe('iteration');
  });

  it('streams progress within an epoch as transient batch events', async () => {
    const { projectId, iterationId, events } = await streamedTraining();
    const batches = events.filter((event) => event.type === 'batch').map((event) => event.data);
    expect(batches.length).toBeGreaterThan(0);
    for (const progress of batches) {
      expect(progress).toEqual({
        attempt: 1,
        epoch: expect.any(Number),
        epochs: 15,
        batch: expect.any(Number),
        batches: batches[0].batches,
        elapsedMs: expect.any(Number),
        imagesPerSecond: expect.any(Number),
        batchSize: 2,
        trainingImages: batches[0].trainingImages,
        validationImages: batches[0].validationImages,
        reportedAt: expect.any(String),
      });
      expect(progress.batch).toBeGreaterThanOrEqual(1);
      expect(progress.batch).toBeLessThanOrEqual(progress.batches as number);
      expect(progress.imagesPerSecond).toBeGreaterThan(0);
    }
    expect(batches[0].batches).toBeGreaterThanOrEqual(15);
    expect(events[events.length - 1].data.status).toBe('completed');
    // Transient: the iteration's record holds epochs only.
    const iteration = await client.iteration(projectId, iterationId);
    // "2 photos per step · 38 training photos": the split the finished iteration reports, of the 48 uploaded.
    expect([batches[0].trainingImages, batches[0].validationImages]).toEqual([
      iteration.trainCount,
      iteration.validationCount,
    ]);
    expect((iteration.trainCount as number) + (iteration.validationCount as number)).toBe(48);
    expect(iteration.history).toHaveLength(15);
    expect(JSON.stringify(iteration)).not.toContain('"batches"');
  });

  it('sends the latest batch progress at once to a client that connects mid-training', async () => {
    const project = await client.createProject('classification', ['red', 'blue']);
    await client.upload(project.id, await colouredSquares(RED, 12, 33), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 12, 34), { label: 'blue' }, 'blue');
    const queued = await client.train(project.id, { ...FAST, epochs: 500, batchSize: 2 });
    while ((await client.iteration(project.id, queued.id)).history.length < 2)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const cancel = async () => {
      await client.http
        .post(`/v1/projects/${project.id}/iterations/${queued.id}/cancel`)
        .set('Authorization', client.auth)
        .expect(200);
    };
    let cancelled: Promise<void> | undefined;
    // Cancelled once the first look has arrived, so the stream ends without waiting out 500 epochs.
    const events = await client.iterationEvents(project.id, queued.id, (_, received) => {
      if (received.length === 2) cancelled = cancel();
    });
    await cancelled;
    // The iteration as it is and where its epoch is: both from the first look, before any later change.
    expect(
      events
        .slice(0, 2)
        .map((event) => event.type)
        .sort(),
    ).toEqual(['batch', 'iteration']);
    expect(events[events.length - 1].data.status).toBe('cancelled');
  });

  it('cancels an iteration; the cancelled run records nothing more', async () => {
    const project = await client.createProject('classification', ['red', 'blue']);
    await client.upload(project.id, await colouredSquares(RED, 6, 5), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 6, 6), { label: 'blue' }, 'blue');
    const queued = await client.train(project.id, { ...FAST, epochs: 200 });
    const cancelled = await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/cancel`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(cancelled.body.status).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await client.iteration(project.id, queued.id);
    expect(after.status).toBe('cancelled');
    expect(after.history.length).toBeLessThan(200);
    const again = await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/cancel`)
      .set('Authorization', client.auth);
    expect(again.status).toBe(200);
  });

  it('holds one user to MAX_ACTIVE_TRAININGS_PER_USER trainings queued or running: 429 beyond, room again after a cancel', async () => {
    const busy = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    const project = await busy.createProject('classification', ['red', 'blue']);
    await busy.upload(project.id, await colouredSquares(RED, 6, 11), { label: 'red' }, 'red');
    await busy.upload(project.id, await colouredSquares(BLUE, 6, 12), { label: 'blue' }, 'blue');
    const slow = { ...FAST, epochs: 500 };
    const queued: Queued[] = [];
    for (let count = 0; count < 5; count += 1) queued.push(await busy.train(project.id, slow));
    const refused = await busy.http
      .post(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', busy.auth)
      .send({ trainingConfig: slow });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'TOO_MANY_ACTIVE_TRAININGS', details: { active: 5, maxActive: 5 } });
    expect(refused.body.message).toContain('cancel one');
    const cancel = (iterationId: string) =>
      busy.http
        .post(`/v1/projects/${project.id}/iterations/${iterationId}/cancel`)
        .set('Authorization', busy.auth)
        .expect(200);
    await cancel(queued[4].id);
    queued[4] = await busy.train(project.id, slow);
    for (const iteration of queued) await cancel(iteration.id);
  });

  it('trains a detector that finds coloured squares far better than chance', async () => {
    const project = await client.createProject('detection', ['red', 'blue']);
    const scenes = await squareScenes([RED, BLUE], 60, 11);
    const items = await client.upload(
      project.id,
      scenes.map((scene) => scene.png),
      {},
      'scene',
    );
    const names = ['red', 'blue'];
    const labeling = await client.http
      .post(`/v1/projects/${project.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({
        items: items.map((item, index) => ({
          imageId: item.id,
          regions: scenes[index].boxes.map((box) => ({
            label: names[box.label],
            x: box.x,
            y: box.y,
            width: box.width,
            height: box.height,
          })),
        })),
      });
    expect(labeling.status).toBeLessThan(300);
    const queued = await client.train(project.id, {
      architecture: 'tiny-detector',
      imageSize: 32,
      epochs: 12,
      batchSize: 8,
      learningRate: 0.005,
      seed: 3,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
    });
    const iteration = await client.waitForIteration(project.id, queued.id, 120_000);
    expect(iteration.status).toBe('completed');
    const metrics = await client.http
      .get(`/v1/projects/${project.id}/iterations/${queued.id}/metrics?threshold=0.3&overlapThreshold=0.5`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(metrics.body.map50).toBeGreaterThan(0.5);
    expect(metrics.body.perLabel.every((label: { ap: number }) => typeof label.ap === 'number')).toBe(true);
    expect(Object.keys(iteration.metrics).sort()).toEqual(await documented('DetectionMetricsDto'));
    expect(Object.keys(metrics.body).sort()).toEqual(await documented('DetectionMetricsAtThresholdDto'));
    expect(Object.keys(metrics.body.perLabel[0]).sort()).toEqual(await documented('DetectionLabelMetricsDto'));
  });

  it("holds out each label's share of a detection project's photos for validation, and a reproduction draws the same", async () => {
    // The quickstart as a new user first trained it: 17 forks and 17 scissors. A random fifth once took 1 fork.
    type Coco = {
      images: { id: number; file_name: string; width: number; height: number }[];
      annotations: { image_id: number; category_id: number; bbox: [number, number, number, number] }[];
      categories: { id: number; name: string }[];
    };
    const coco = JSON.parse(readFileSync(join(QUICKSTART, 'annotations.coco.json'), 'utf8')) as Coco;
    const photos = coco.images.filter((image) => Number(/_(\d+)\.jpg$/.exec(image.file_name)![1]) <= 17);
    const project = await client.createProject('detection', ['Fork', 'Scissors']);
    let request = client.http.post(`/v1/projects/${project.id}/images`).set('Authorization', client.auth);
    for (const photo of photos)
      request = request.attach('images', readFileSync(join(QUICKSTART, 'images', photo.file_name)), photo.file_name);
    const uploaded = (await request.expect(201)).body.items as { id: string; filename: string }[];
    const items = photos.map((photo) => ({
      imageId: uploaded.find((image) => image.filename === photo.file_name)!.id,
      regions: coco.annotations
        .filter((annotation) => annotation.image_id === photo.id)
        .map(({ category_id, bbox: [x, y, width, height] }) => ({
          label: coco.categories.find((category) => category.id === category_id)!.name,
          x: x / photo.width,
          y: y / photo.height,
          width: width / photo.width,
          height: height / photo.height,
        })),
    }));
    const labeling = await client.http
      .post(`/v1/projects/${project.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({ items });
    expect(labeling.status).toBeLessThan(300);

    const queued = await client.train(project.id, { architecture: 'tiny-detector', imageSize: 32, epochs: 1 });
    const iteration = await client.waitForIteration(project.id, queued.id, 120_000);
    expect(iteration).toMatchObject({ status: 'completed', trainCount: 28, validationCount: 6 });
    const performances = await client.http
      .get(`/v1/projects/${project.id}/iterations/${queued.id}/image-performances?limit=100`)
      .set('Authorization', client.auth)
      .expect(200);
    const validationFiles = (performances.body.items as { filename: string }[]).map((item) => item.filename);
    expect(validationFiles.filter((filename) => filename.startsWith('fork_'))).toHaveLength(3);
    expect(validationFiles.filter((filename) => filename.startsWith('scissors_'))).toHaveLength(3);

    const reproduction = await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/reproduce`)
      .set('Authorization', client.auth)
      .expect(202);
    const reproduced = await client.waitForIteration(project.id, reproduction.body.id, 120_000);
    expect(reproduced).toMatchObject({
      validationCount: 6,
      reproduction: { sameMetrics: true, sameModel: true },
    });
  }, 240_000);
});
