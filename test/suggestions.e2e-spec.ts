import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReadModels } from '../apps/api/src/replay-verification.js';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED, squareScenes } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { modelZip, tinyClassifier, tinyDetector } from './support/tiny-models.js';

type Suggestion = {
  imageId: string;
  status: string;
  runId: string;
  predictions: {
    labelId: string;
    label: string;
    probability: number;
    box?: { x: number; y: number; width: number; height: number };
  }[];
  uncertainty: number;
};
type HistoryItem = { type: string; v: number; data: Record<string, unknown> };

const FAST = {
  imageSize: 16,
  epochs: 200,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

describe('smart labeling: suggestions from a completed iteration, over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  let iterationId: string;
  let unlabeled: string[];
  let filenames: Map<string, string>;

  const base = () => `/v1/projects/${project.id}/iterations/${iterationId}/suggestions`;
  const post = (path: string, body: unknown, auth = client.auth) =>
    client.http
      .post(`${base()}${path}`)
      .set('Authorization', auth)
      .send(body as object);
  const list = async (query = '') =>
    (await client.http.get(`${base()}${query}`).set('Authorization', client.auth).expect(200)).body as {
      items: Suggestion[];
      nextCursor: string | null;
    };
  const waitForRun = async (runId: string) => {
    const deadline = Date.now() + 150_000;
    for (;;) {
      const response = await client.http.get(`${base()}/runs/${runId}`).set('Authorization', client.auth).expect(200);
      if (response.body.status !== 'requested') return response.body;
      if (Date.now() > deadline) throw new Error('suggestion run still requested after 150 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const history = async () => {
    const response = await client.http
      .get(`/v1/projects/${project.id}/history?limit=500`)
      .set('Authorization', client.auth)
      .expect(200);
    return response.body.items as HistoryItem[];
  };
  const image = async (imageId: string) =>
    (
      await client.http
        .get(`/v1/projects/${project.id}/images/${imageId}`)
        .set('Authorization', client.auth)
        .expect(200)
    ).body;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    project = await client.createProject('classification', ['red', 'blue']);
    await client.upload(project.id, await colouredSquares(RED, 5, 1), { label: 'red' }, 'labeled-red');
    await client.upload(project.id, await colouredSquares(BLUE, 5, 2), { label: 'blue' }, 'labeled-blue');
    const red = await client.upload(project.id, await colouredSquares(RED, 3, 3), {}, 'red');
    const blue = await client.upload(project.id, await colouredSquares(BLUE, 3, 4), {}, 'blue');
    unlabeled = [...red, ...blue].map((item) => item.id!);
    filenames = new Map([...red, ...blue].map((item) => [item.id!, item.filename]));
    const imported = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    iterationId = imported.body.id;
  }, 240_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('suggests labels for every unlabeled image in the background, with probabilities, and filters them', async () => {
    const requested = await post('', {});
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ iterationId, status: 'requested', imageCount: 6, suggestedCount: null });
    const run = await waitForRun(requested.body.id);
    expect(run).toMatchObject({ status: 'completed', suggestedCount: 6 });

    const all = (await list()).items;
    expect(all.map((suggestion) => suggestion.imageId).sort()).toEqual([...unlabeled].sort());
    for (const suggestion of all) {
      expect(suggestion).toMatchObject({
        status: 'pending',
        runId: run.id,
        filename: filenames.get(suggestion.imageId),
      });
      expect(suggestion.predictions.map((p) => p.label).sort()).toEqual(['blue', 'red']);
      expect(suggestion.predictions[0].probability).toBeGreaterThanOrEqual(suggestion.predictions[1].probability);
      expect(suggestion.predictions[0].probability + suggestion.predictions[1].probability).toBeCloseTo(1, 4);
      expect(suggestion.predictions[0].labelId).toBe(project.labels[suggestion.predictions[0].label]);
      expect(suggestion.uncertainty).toBeGreaterThan(0);
    }
    const tops = all.map((suggestion) => suggestion.predictions[0].probability);
    expect(tops).toEqual([...tops].sort((a, b) => b - a));

    const redOf = (suggestion: Suggestion) => suggestion.predictions.find((p) => p.label === 'red')!.probability;
    const threshold = [...all.map(redOf)].sort()[3];
    const likelyRed = (await list(`?label=red&minProbability=${threshold}`)).items;
    expect(likelyRed.map((s) => s.imageId).sort()).toEqual(
      all
        .filter((s) => redOf(s) >= threshold)
        .map((s) => s.imageId)
        .sort(),
    );
    const unlikelyRed = (await list(`?label=RED&maxProbability=${threshold}`)).items;
    expect(unlikelyRed.map((s) => s.imageId).sort()).toEqual(
      all
        .filter((s) => redOf(s) <= threshold)
        .map((s) => s.imageId)
        .sort(),
    );

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Suggestion[]; nextCursor: string | null } = await list(
        `?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.items.map((s) => s.imageId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((s) => s.imageId));

    const badLabel = await client.http.get(`${base()}?label=green`).set('Authorization', client.auth);
    expect(badLabel.status).toBe(400);
    expect(badLabel.body.code).toBe('UNKNOWN_LABEL');
  }, 240_000);

  it('accepts suggestions as they are or edited, as ordinary labeling events naming the iteration', async () => {
    const [asSuggested, edited] = (await list()).items;
    const accepted = await post('/accept', {
      items: [{ imageId: asSuggested.imageId }, { imageId: edited.imageId, label: 'blue' }],
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({
      accepted: 2,
      failed: 0,
      items: [
        { status: 'accepted', edited: false },
        { status: 'accepted', edited: true },
      ],
    });

    expect((await image(asSuggested.imageId)).label.name).toBe(asSuggested.predictions[0].label);
    expect((await image(edited.imageId)).label.name).toBe('blue');
    const labeled = (await history()).filter((item) => item.type === 'ImageLabeled' && item.data.source);
    expect(labeled.map(({ v, data }) => ({ v, imageId: data.imageId, source: data.source }))).toEqual([
      { v: 2, imageId: asSuggested.imageId, source: { kind: 'suggestion', iterationId, edited: false } },
      { v: 2, imageId: edited.imageId, source: { kind: 'suggestion', iterationId, edited: true } },
    ]);
    const acceptedList = (await list('?status=accepted')).items.map((s) => s.imageId).sort();
    expect(acceptedList).toEqual([asSuggested.imageId, edited.imageId].sort());
    expect((await list()).items).toHaveLength(4);

    const again = await post('/accept', {
      items: [
        { imageId: asSuggested.imageId },
        { imageId: unlabeled.find((id) => ![asSuggested.imageId, edited.imageId].includes(id))!, label: 'green' },
      ],
    });
    expect(again.status).toBe(207);
    expect(again.body.items.map((item: { error: { code: string } }) => item.error.code)).toEqual([
      'SUGGESTION_NOT_PENDING',
      'UNKNOWN_LABEL',
    ]);
  });

  it('records rejections, and never suggests those images again for this iteration', async () => {
    const [first, second, third] = (await list()).items;
    const rejected = await post('/reject', { imageIds: [first.imageId, second.imageId] });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toEqual({ rejected: 2 });
    expect((await list('?status=rejected')).items.map((s) => s.imageId).sort()).toEqual(
      [first.imageId, second.imageId].sort(),
    );
    expect((await post('/reject', { imageIds: [first.imageId] }).expect(200)).body).toEqual({ rejected: 0 });

    const acceptedImage = (await list('?status=accepted')).items[0].imageId;
    const named = await post('', { imageIds: [first.imageId, acceptedImage, third.imageId] });
    expect(named.status).toBe(202);
    expect(named.body.imageCount).toBe(1);
    expect(named.body.skipped).toEqual(
      expect.arrayContaining([
        { imageId: first.imageId, reason: 'REJECTED' },
        { imageId: acceptedImage, reason: 'LABELED' },
      ]),
    );
    expect((await waitForRun(named.body.id)).status).toBe('completed');

    const onlyRejected = await post('', { imageIds: [first.imageId, second.imageId] });
    expect(onlyRejected.status).toBe(422);
    expect(onlyRejected.body.code).toBe('NO_IMAGES_TO_SUGGEST');
    const everything = await post('', {});
    expect(everything.status).toBe(422);
    expect(everything.body.code).toBe('NO_IMAGES_TO_SUGGEST');

    const acceptRejected = await post('/accept', { items: [{ imageId: first.imageId }] });
    expect(acceptRejected.status).toBe(207);
    expect(acceptRejected.body.items[0].error.code).toBe('SUGGESTION_NOT_PENDING');
    const rejectAccepted = await post('/reject', { imageIds: [acceptedImage, third.imageId] });
    expect(rejectAccepted.status).toBe(409);
    expect(rejectAccepted.body.code).toBe('SUGGESTION_NOT_PENDING');
    expect(rejectAccepted.body.details.images.map((item: { imageId: string }) => item.imageId)).toEqual([
      acceptedImage,
    ]);
    expect((await list()).items.map((s) => s.imageId)).toContain(third.imageId);

    await client.http
      .post(`/v1/projects/${project.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: third.imageId, label: 'red' }] })
      .expect(200);
    expect((await list('?status=superseded')).items.map((s) => s.imageId)).toEqual([third.imageId]);
    const late = await post('/accept', { items: [{ imageId: third.imageId }] });
    expect(late.body.items[0].error.code).toBe('SUGGESTION_NOT_PENDING');
    expect((await image(third.imageId)).label.name).toBe('red');
  }, 240_000);

  it("refuses another project's images, iterations that are not completed and other users, writing nothing", async () => {
    const before = (await history()).length;
    const other = await client.createProject('classification', ['red', 'blue'], 'other');
    const [foreign] = await client.upload(other.id, await colouredSquares(RED, 1, 9), {}, 'foreign');
    const foreignImage = await post('', { imageIds: [unlabeled[0], foreign.id] });
    expect(foreignImage.status).toBe(404);
    expect(foreignImage.body).toMatchObject({ code: 'IMAGE_NOT_FOUND', details: { imageIds: [foreign.id] } });
    const notUuid = await post('', { imageIds: ['nope'] });
    expect(notUuid.status).toBe(400);
    const noSuggestion = await post('/reject', { imageIds: [foreign.id] });
    expect(noSuggestion.status).toBe(404);
    expect(noSuggestion.body.code).toBe('SUGGESTION_NOT_FOUND');

    await client.configureTraining(project.id, FAST);
    const queued = await client.train(project.id);
    await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/cancel`)
      .set('Authorization', client.auth)
      .expect(200);
    const cancelled = await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/suggestions`)
      .set('Authorization', client.auth)
      .send({});
    expect(cancelled.status).toBe(409);
    expect(cancelled.body.code).toBe('ITERATION_NOT_COMPLETED');
    const unknown = await client.http
      .post(`/v1/projects/${project.id}/iterations/00000000-0000-4000-8000-000000000000/suggestions`)
      .set('Authorization', client.auth)
      .send({});
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('ITERATION_NOT_FOUND');

    const stranger = await registerAndLogIn(testApp);
    const theirs = await post('', {}, stranger.auth);
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('PROJECT_NOT_FOUND');
    const theirList = await client.http.get(base()).set('Authorization', stranger.auth);
    expect(theirList.status).toBe(404);

    const types = (await history()).slice(before).map((item) => item.type);
    expect(types.filter((type) => type.startsWith('LabelSuggestions'))).toEqual([]);
  }, 240_000);

  it('documents the suggestion and test-run cancel routes with their response schemas and errors', async () => {
    const document = (await client.http.get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: object }> }>>;
    };
    const iteration = '/v1/projects/{projectId}/iterations/{iterationId}';
    const routes: [string, string, string][] = [
      ['post', `${iteration}/suggestions`, '202'],
      ['get', `${iteration}/suggestions`, '200'],
      ['get', `${iteration}/suggestions/runs/{runId}`, '200'],
      ['post', `${iteration}/suggestions/accept`, '200'],
      ['post', `${iteration}/suggestions/reject`, '200'],
      ['post', `${iteration}/test-runs/{testRunId}/cancel`, '200'],
    ];
    for (const [method, path, success] of routes) {
      const responses = document.paths[path]?.[method]?.responses;
      expect(Object.keys(responses ?? {})).toEqual(expect.arrayContaining([success, '400', '401', '404']));
      expect(responses![success].content).toHaveProperty(['application/json']);
    }
    expect(Object.keys(document.paths[`${iteration}/suggestions/accept`].post.responses)).toContain('207');
  });

  it('keeps every suggestion event in the history, and a replay rebuilds the same read models', async () => {
    const types = new Set((await history()).map((item) => `${item.type}@${item.v}`));
    for (const type of [
      'LabelSuggestionsRequested@1',
      'LabelSuggestionsComputed@1',
      'LabelSuggestionsRejected@1',
      'ImageLabeled@2',
    ]) {
      expect(types).toContain(type);
    }
    const report = await verifyReadModels(testApp.app);
    expect(report.equal).toBe(true);
    expect(report.comparisons.filter((comparison) => comparison.collection.startsWith('label-suggestion'))).toEqual([
      expect.objectContaining({ equal: true }),
      expect.objectContaining({ equal: true }),
    ]);
  });

  it('suggests boxes for a detection project; accepting keeps the boxes at least minProbability probable, or the edited ones', async () => {
    const detection = await client.createProject('detection', ['red', 'blue'], 'detection');
    const scenes = await squareScenes([RED, BLUE], 2, 21);
    const items = await client.upload(
      detection.id,
      scenes.map((scene) => scene.png),
      {},
      'scene',
    );
    const imported = await client.http
      .post(`/v1/projects/${detection.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyDetector(['red', 'blue'])), 'model.zip')
      .expect(201);
    const suggestions = `/v1/projects/${detection.id}/iterations/${imported.body.id}/suggestions`;
    const requested = await client.http.post(suggestions).set('Authorization', client.auth).send({}).expect(202);
    const deadline = Date.now() + 150_000;
    let run = requested.body;
    while (run.status === 'requested' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = (await client.http.get(`${suggestions}/runs/${run.id}`).set('Authorization', client.auth).expect(200)).body;
    }
    expect(run).toMatchObject({ status: 'completed', suggestedCount: 2 });
    const listed = (await client.http.get(suggestions).set('Authorization', client.auth).expect(200)).body
      .items as Suggestion[];
    const [first, second] = items.map((item) => listed.find((suggestion) => suggestion.imageId === item.id)!);
    for (const suggestion of [first, second]) {
      expect(suggestion.predictions.length).toBeGreaterThan(0);
      for (const prediction of suggestion.predictions) {
        expect(prediction.probability).toBeGreaterThanOrEqual(0.1);
        expect(prediction.box!.x + prediction.box!.width).toBeLessThanOrEqual(1 + 1e-6);
      }
    }

    const wrongEdit = await client.http
      .post(`${suggestions}/accept`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: first.imageId, label: 'red' }] });
    expect(wrongEdit.body.items[0].error.code).toBe('EDIT_DOES_NOT_FIT');
    const nullRegions = await client.http
      .post(`${suggestions}/accept`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: first.imageId, regions: null }] });
    expect([nullRegions.status, nullRegions.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const box = { label: 'blue', x: 0.1, y: 0.1, width: 0.3, height: 0.3 };
    const accepted = await client.http
      .post(`${suggestions}/accept`)
      .set('Authorization', client.auth)
      .send({ minProbability: 0, items: [{ imageId: first.imageId }, { imageId: second.imageId, regions: [box] }] });
    expect(accepted.status).toBe(200);
    const regionsOf = async (imageId: string) =>
      (
        await client.http
          .get(`/v1/projects/${detection.id}/images/${imageId}`)
          .set('Authorization', client.auth)
          .expect(200)
      ).body.regions;
    expect(await regionsOf(first.imageId)).toHaveLength(first.predictions.length);
    expect(await regionsOf(second.imageId)).toEqual([
      expect.objectContaining({ label: expect.objectContaining({ name: 'blue' }), x: 0.1, width: 0.3 }),
    ]);
    const history = await client.http
      .get(`/v1/projects/${detection.id}/history?type=ImageRegionsSet`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(history.body.items.map((item: HistoryItem) => [item.v, item.data.imageId, item.data.source])).toEqual([
      [2, first.imageId, { kind: 'suggestion', iterationId: imported.body.id, edited: false }],
      [2, second.imageId, { kind: 'suggestion', iterationId: imported.body.id, edited: true }],
    ]);
  }, 240_000);
});
