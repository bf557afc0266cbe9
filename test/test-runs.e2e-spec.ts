import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { testRunStream, type TestRunEvent } from '@diyml/evaluation';
import { EventStore } from '@diyml/event-store';
import { ProjectionRunner } from '@diyml/read-store';
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

/** Custom Vision's detection quickstart: fork_1..20.jpg and scissors_1..20.jpg with their boxes in COCO form. */
const QUICKSTART = '/work/shared/datasets/custom-vision-samples/detection';
type Coco = {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: [number, number, number, number] }[];
  categories: { id: number; name: string }[];
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
    // Average precision ranks the images by each label's probability, as an iteration's metrics do: whatever the
    // threshold, and mAP is the mean over the labels tested (both have 5 images here).
    const aps = run.metrics.perLabel.map((label: { ap: number }) => label.ap);
    for (const ap of aps) expect(ap).toBeGreaterThan(0.5);
    expect(run.metrics.map).toBeCloseTo((aps[0] + aps[1]) / 2, 12);
    expect(strict.body.perLabel.map((label: { ap: number }) => label.ap)).toEqual(aps);
    expect(strict.body.map).toBe(run.metrics.map);

    const list = await client.http.get(runs()).set('Authorization', client.auth).expect(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).toContain(run.id);
    expect(list.body.items.find((item: { id: string }) => item.id === run.id).metrics.map).toBe(run.metrics.map);
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

  it('lists a classification run with the average precisions it recorded, as a run recorded before them is answered', async () => {
    // One red square said to be blue, so that the ranks, hence the average precisions, are not all perfect.
    const files = [
      ...(await colouredSquares(RED, 3, 401)).map((bytes, i) => ({ name: `r${i}.png`, bytes })),
      ...(await colouredSquares(BLUE, 2, 402)).map((bytes, i) => ({ name: `b${i}.png`, bytes })),
    ];
    const labels = Object.fromEntries(
      files.map((file) => [file.name, file.name === 'r0.png' ? 'blue' : file.name[0] === 'r' ? 'red' : 'blue']),
    );
    const recent = await waitForRun((await upload(files, labels).expect(202)).body.id);
    expect(recent.status).toBe('completed');
    const events = testApp.app.get(EventStore);
    const [requested, completed] = (await events.readStream(testRunStream(recent.id))) as TestRunEvent[];
    if (completed.type !== 'TestRunCompleted') throw new Error(`expected TestRunCompleted, got ${completed.type}`);
    expect(completed.data.averagePrecision?.perLabel).toHaveLength(2);

    // The same run as one completed before average precisions were recorded: only its evaluation holds them.
    const { averagePrecision, ...before } = completed.data;
    const oldId = randomUUID();
    const appended = await events.append(
      testRunStream(oldId),
      [
        { type: 'TestRunRequested', v: 1, data: { ...requested.data, testRunId: oldId } },
        { type: 'TestRunCompleted', v: 1, data: { ...before, testRunId: oldId } },
      ],
      {
        expectedRevision: 'no_stream',
        metadata: { userId: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString() },
      },
    );
    await testApp.app.get(ProjectionRunner).waitFor(appended.position);
    const old = await waitForRun(oldId);
    expect(old.metrics).toEqual(recent.metrics);
    const list = await client.http.get(runs()).set('Authorization', client.auth).expect(200);
    const listed = (id: string) => list.body.items.find((item: { id: string }) => item.id === id).metrics;
    expect(listed(oldId)).toEqual(recent.metrics);
    expect(listed(recent.id)).toEqual(recent.metrics);
    expect(recent.metrics.map).toBeLessThan(1);
    expect(recent.metrics.map).toBeGreaterThan(0);
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

  it("detection: takes the expected boxes of the user's photos as a COCO JSON, reporting the annotations it cut or dropped", async () => {
    const coco = JSON.parse(readFileSync(join(QUICKSTART, 'annotations.coco.json'), 'utf8')) as Coco;
    const numberOf = (name: string) => Number(/_(\d+)\.jpg$/.exec(name)![1]);
    const photo = (name: string) => ({ name, bytes: readFileSync(join(QUICKSTART, 'images', name)) });
    const regionsOf = (image: Coco['images'][number]) =>
      coco.annotations
        .filter((annotation) => annotation.image_id === image.id)
        .map(({ category_id, bbox: [x, y, width, height] }) => ({
          label: coco.categories.find((category) => category.id === category_id)!.name,
          x: x / image.width,
          y: y / image.height,
          width: width / image.width,
          height: height / image.height,
        }));
    const detection = await client.createProject('detection', ['Fork', 'Scissors']);
    const training = coco.images.filter((image) => numberOf(image.file_name) <= 17);
    const items = await client.upload(
      detection.id,
      training.map((image) => photo(image.file_name).bytes),
      {},
      'photo',
    );
    await client.http
      .post(`/v1/projects/${detection.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({ items: items.map((item, index) => ({ imageId: item.id, regions: regionsOf(training[index]) })) })
      .expect(200);
    const queued = await client.train(detection.id, { architecture: 'tiny-detector', imageSize: 32, epochs: 1 });
    expect((await client.waitForIteration(detection.id, queued.id, 120_000)).status).toBe('completed');
    const path = `/v1/projects/${detection.id}/iterations/${queued.id}/test-runs`;
    const heldOut = coco.images.filter((image) => numberOf(image.file_name) > 17);
    const withCoco = (json: string, files = heldOut.map((image) => photo(image.file_name))) => {
      let request = client.http.post(path).set('Authorization', client.auth);
      for (const file of files) request = request.attach('images', file.bytes, file.name);
      return request.field('coco', json);
    };

    // The whole file of the quickstart: its images not sent are not needed; the boxes are those `labels` would give.
    const fromCoco = await withCoco(JSON.stringify(coco)).expect(202);
    expect(fromCoco.body.annotationIssues).toBeUndefined();
    const fromLabels = await upload(
      heldOut.map((image) => photo(image.file_name)),
      Object.fromEntries(heldOut.map((image) => [image.file_name, regionsOf(image)])),
      path,
    ).expect(202);
    const [cocoRun, labelsRun] = [await waitForRun(fromCoco.body.id, path), await waitForRun(fromLabels.body.id, path)];
    expect(cocoRun).toMatchObject({ status: 'completed', imageCount: 6 });
    expect(cocoRun.metrics).toEqual(labelsRun.metrics);
    expect(cocoRun.predictions.map((prediction: DetectionPrediction) => prediction.expected)).toEqual(
      labelsRun.predictions.map((prediction: DetectionPrediction) => prediction.expected),
    );

    // A box reaching outside its photo is cut to it, one of an unknown category dropped: 207, each one named.
    const fork18 = heldOut.find((image) => image.file_name === 'fork_18.jpg')!;
    const edited: Coco = {
      ...coco,
      images: coco.images.map((image) => ({ ...image, file_name: `photos/${image.file_name}` })),
      annotations: [
        ...coco.annotations.map((annotation) =>
          annotation.image_id === fork18.id
            ? { ...annotation, bbox: [-20, 10, 200, 100] as Coco['annotations'][number]['bbox'] }
            : annotation,
        ),
        { id: 999, image_id: fork18.id, category_id: 7, bbox: [1, 1, 50, 50] },
      ],
    };
    const reported = await withCoco(JSON.stringify(edited)).expect(207);
    expect(reported.body.status).toBe('requested');
    expect(
      reported.body.annotationIssues.map(({ filename, code, action }: Record<string, string>) => ({
        filename,
        code,
        action,
      })),
    ).toEqual([
      { filename: 'fork_18.jpg', code: 'BOX_CLAMPED', action: 'changed' },
      { filename: 'fork_18.jpg', code: 'UNKNOWN_CATEGORY_ID', action: 'dropped' },
    ]);
    const clamped = await waitForRun(reported.body.id, path);
    const fork18Expected = clamped.predictions.find(
      (prediction: { filename: string }) => prediction.filename === 'fork_18.jpg',
    ).expected as Box[];
    expect(fork18Expected).toHaveLength(1);
    expect(fork18Expected[0].x).toBe(0);
    expect(fork18Expected[0].width).toBeCloseTo(180 / fork18.width, 10);

    // What to fix: a file that is not COCO, a photo the file does not list, both answers, a classifier.
    const notJson = await withCoco('{not json').expect(400);
    expect(notJson.body).toMatchObject({
      code: 'INVALID_COCO',
      message: 'The "coco" field cannot be read: the COCO file is not valid JSON.',
    });
    const notCoco = await withCoco('{"images": []}').expect(400);
    expect(notCoco.body.message).toMatch(/needs "images" and "categories"/);
    const unlisted = await withCoco(
      JSON.stringify({ ...coco, images: coco.images.filter((image) => image !== fork18) }),
    ).expect(400);
    expect(unlisted.body.code).toBe('INVALID_TEST_SET');
    expect(unlisted.body.details.files).toEqual([
      { filename: 'fork_18.jpg', code: 'INVALID_EXPECTED_LABEL', message: 'is not among the images of the COCO file' },
    ]);
    // Folders written the Windows way are folders too; a name two listed images share cannot say which is sent.
    const windowsPaths = coco.images.map((image) => ({ ...image, file_name: `photos\\${image.file_name}` }));
    await withCoco(JSON.stringify({ ...coco, images: windowsPaths })).expect(202);
    const twice = await withCoco(
      JSON.stringify({
        ...coco,
        images: [...coco.images, { ...fork18, id: 10_000, file_name: `other/${fork18.file_name}` }],
      }),
    ).expect(400);
    expect(twice.body.details.files).toEqual([
      {
        filename: 'fork_18.jpg',
        code: 'INVALID_EXPECTED_LABEL',
        message: 'is the name of several images of the COCO file (fork_18.jpg, other/fork_18.jpg): rename them apart',
      },
    ]);
    const both = await withCoco(JSON.stringify(coco)).field('labels', '{}').expect(400);
    expect(both.body.code).toBe('AMBIGUOUS_LABELS');
    const classifier = await client.http
      .post(runs())
      .set('Authorization', client.auth)
      .attach('images', photo('fork_18.jpg').bytes, 'fork_18.jpg')
      .field('coco', JSON.stringify(coco))
      .expect(400);
    expect(classifier.body.code).toBe('COCO_NEEDS_DETECTION');
  }, 240_000);

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
