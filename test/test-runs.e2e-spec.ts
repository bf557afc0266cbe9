import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED, squareScenes } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const FAST = {
  imageSize: 16,
  epochs: 15,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

type TestPrediction = {
  filename: string;
  imageId: string | null;
  expected: string;
  predicted: string;
  confidence: number;
  correct: boolean;
};

type Box = { label: string; x: number; y: number; width: number; height: number };
type DetectionPrediction = {
  expected: Box[];
  predicted: (Box & { probability: number })[];
  boxMatches: {
    scoreThreshold: number;
    overlapThreshold: number;
    matched: number;
    missed: number;
    falsePositives: number;
  };
};

describe('test runs over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  let iterationId: string;

  const runs = () => `/v1/projects/${project.id}/iterations/${iterationId}/test-runs`;
  const upload = (files: { name: string; bytes: Buffer }[], labels?: unknown, path = runs()) => {
    let request = client.http.post(path).set('Authorization', client.auth);
    for (const file of files) request = request.attach('images', file.bytes, file.name);
    if (labels !== undefined)
      request = request.field('labels', typeof labels === 'string' ? labels : JSON.stringify(labels));
    return request;
  };
  const waitForRun = async (testRunId: string, path = runs()) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await client.http.get(`${path}/${testRunId}`).set('Authorization', client.auth).expect(200);
      if (response.body.status !== 'requested') return response.body;
      if (Date.now() > deadline) throw new Error('test run still requested after 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    project = await client.createProject('classification', ['red', 'blue']);
    await client.upload(project.id, await colouredSquares(RED, 12, 1), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 12, 2), { label: 'blue' }, 'blue');
    await client.configureTraining(project.id, FAST);
    const queued = await client.train(project.id);
    expect((await client.waitForIteration(project.id, queued.id)).status).toBe('completed');
    iterationId = queued.id;
  }, 120_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('tests the iteration on freshly uploaded labeled images: metrics as training reports them, and every prediction', async () => {
    const red = await colouredSquares(RED, 5, 201);
    const blue = await colouredSquares(BLUE, 5, 202);
    const files = [
      ...red.map((bytes, i) => ({ name: `r${i}.png`, bytes })),
      ...blue.map((bytes, i) => ({ name: `b${i}.png`, bytes })),
    ];
    const labels = Object.fromEntries(files.map((file) => [file.name, file.name.startsWith('r') ? 'red' : 'Blue']));
    const requested = await upload(files, labels);
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ iterationId, status: 'requested', source: 'upload', imageCount: 10 });

    const run = await waitForRun(requested.body.id);
    expect(run.status).toBe('completed');
    expect(run.metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(run.metrics.perLabel.map((label: { label: string }) => label.label)).toEqual(['red', 'blue']);
    expect(run.metrics.confusionMatrix.labels).toEqual(['red', 'blue']);
    expect(run.metrics.confusionMatrix.matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10);
    const predictions = run.predictions as TestPrediction[];
    expect(predictions).toHaveLength(10);
    for (const prediction of predictions) {
      expect(prediction.expected).toBe(prediction.filename.startsWith('r') ? 'red' : 'blue');
      expect(['red', 'blue']).toContain(prediction.predicted);
      expect(prediction.confidence).toBeGreaterThanOrEqual(0.5);
      expect(prediction.correct).toBe(prediction.predicted === prediction.expected);
      expect(prediction.imageId).toBeNull();
    }
    expect(predictions.filter((prediction) => prediction.correct).length).toBeGreaterThanOrEqual(9);

    const strict = await client.http
      .get(`${runs()}/${run.id}/metrics?threshold=1`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(strict.body.accuracy).toBeLessThanOrEqual(run.metrics.accuracy);

    const list = await client.http.get(runs()).set('Authorization', client.auth).expect(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).toContain(run.id);
    expect(list.body.items[0].predictions).toBeUndefined();
  });

  it("tests on the project's test split", async () => {
    await client.upload(project.id, await colouredSquares(RED, 3, 301), { label: 'red', split: 'test' }, 'test-red');
    await client.upload(project.id, await colouredSquares(BLUE, 3, 302), { label: 'blue', split: 'test' }, 'test-blue');
    const requested = await client.http.post(runs()).set('Authorization', client.auth).send({ split: 'test' });
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ source: 'split', imageCount: 6 });
    const run = await waitForRun(requested.body.id);
    expect(run.status).toBe('completed');
    expect(run.metrics.accuracy).toBeGreaterThanOrEqual(0.8);
    expect((run.predictions as TestPrediction[]).every((prediction) => typeof prediction.imageId === 'string')).toBe(
      true,
    );
  });

  it('detection: per image, the labelled boxes the boxes found at ≥ 50% match, adding up to the run precision and recall', async () => {
    const detection = await client.createProject('detection', ['red']);
    const scenes = await squareScenes([RED], 46, 5, 32);
    const regionsOf = (scene: (typeof scenes)[number]) =>
      scene.boxes.map(({ x, y, width, height }) => ({ label: 'red', x, y, width, height }));
    const training = scenes.slice(0, 40);
    const items = await client.upload(
      detection.id,
      training.map((scene) => scene.png),
      {},
      'scene',
    );
    await client.http
      .post(`/v1/projects/${detection.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({ items: items.map((item, index) => ({ imageId: item.id, regions: regionsOf(training[index]) })) })
      .expect(200);
    const queued = await client.train(detection.id, {
      architecture: 'tiny-detector',
      imageSize: 32,
      epochs: 20,
      batchSize: 8,
      learningRate: 0.005,
      seed: 3,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
    });
    expect((await client.waitForIteration(detection.id, queued.id, 120_000)).status).toBe('completed');
    const tested = scenes.slice(40).map((scene, index) => ({ name: `s${index}.png`, bytes: scene.png, scene }));
    const path = `/v1/projects/${detection.id}/iterations/${queued.id}/test-runs`;
    const labels = Object.fromEntries(tested.map(({ name, scene }) => [name, regionsOf(scene)]));
    const requested = await upload(tested, labels, path).expect(202);
    const run: { status: string; metrics: Record<string, number>; predictions: DetectionPrediction[] } =
      await waitForRun(requested.body.id, path);
    expect(run.status).toBe('completed');
    expect(run.metrics).toMatchObject({ threshold: 0.5, overlapThreshold: 0.5 });
    const total = { matched: 0, missed: 0, falsePositives: 0 };
    for (const prediction of run.predictions) {
      expect(prediction.expected).toHaveLength(1);
      expect(prediction.predicted.every((box) => box.probability >= 0.5)).toBe(true);
      const { scoreThreshold, overlapThreshold, matched, missed, falsePositives } = prediction.boxMatches;
      expect({ scoreThreshold, overlapThreshold }).toEqual({ scoreThreshold: 0.5, overlapThreshold: 0.5 });
      expect(matched + missed).toBe(prediction.expected.length);
      expect(matched + falsePositives).toBe(prediction.predicted.length);
      total.matched += matched;
      total.missed += missed;
      total.falsePositives += falsePositives;
    }
    // The detector finds the squares, so the counts are more than zeros.
    expect(total.matched).toBeGreaterThan(0);
    expect(run.metrics.recall).toBeCloseTo(total.matched / tested.length, 10);
    const foundCount = total.matched + total.falsePositives;
    expect(run.metrics.precision).toBeCloseTo(foundCount > 0 ? total.matched / foundCount : 0, 10);
  }, 180_000);

  it('refuses a test set it cannot score, naming every problem', async () => {
    const [red] = await colouredSquares(RED, 1, 401);
    const [blue] = await colouredSquares(BLUE, 1, 402);
    const bad = await upload(
      [
        { name: 'ok.png', bytes: red },
        { name: 'nolabel.png', bytes: blue },
        { name: 'green.png', bytes: blue },
        { name: 'text.png', bytes: Buffer.from('not an image') },
      ],
      { 'ok.png': 'red', 'green.png': 'green', 'text.png': 'red', 'ghost.png': 'blue' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_TEST_SET');
    expect(bad.body.details.files.map((file: { filename: string }) => file.filename).sort()).toEqual([
      'green.png',
      'nolabel.png',
      'text.png',
    ]);
    expect(bad.body.details.labelsWithoutFile).toEqual(['ghost.png']);

    const noLabels = await upload([{ name: 'ok.png', bytes: red }]);
    expect(noLabels.status).toBe(400);
    expect(noLabels.body.code).toBe('LABELS_REQUIRED');
    const badJson = await upload([{ name: 'ok.png', bytes: red }], '{not json');
    expect(badJson.body.code).toBe('INVALID_LABELS');
    const nothing = await client.http.post(runs()).set('Authorization', client.auth).send({});
    expect(nothing.status).toBe(400);
    expect(nothing.body.code).toBe('NO_FILES');
  });

  it('tests only completed iterations of your own projects', async () => {
    const unknown = await client.http
      .post(`/v1/projects/${project.id}/iterations/00000000-0000-4000-8000-000000000000/test-runs`)
      .set('Authorization', client.auth)
      .send({ split: 'test' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('ITERATION_NOT_FOUND');

    const queued = await client.train(project.id, { ...FAST, epochs: 200 });
    await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/cancel`)
      .set('Authorization', client.auth)
      .expect(200);
    const cancelled = await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/test-runs`)
      .set('Authorization', client.auth)
      .send({ split: 'test' });
    expect(cancelled.status).toBe(409);
    expect(cancelled.body.code).toBe('ITERATION_NOT_COMPLETED');

    const stranger = await registerAndLogIn(testApp);
    const theirs = await client.http.post(runs()).set('Authorization', stranger.auth).send({ split: 'test' });
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('PROJECT_NOT_FOUND');
    const missing = await client.http
      .get(`${runs()}/00000000-0000-4000-8000-000000000000`)
      .set('Authorization', client.auth);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('TEST_RUN_NOT_FOUND');
  });
});
