import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Response } from 'superagent';
import { ApiClient } from './support/api-client.js';
import {
  BLUE,
  colourPicture,
  colouredSquares,
  MULTILABEL_PICTURES_PER_SET,
  MULTILABEL_TRAINING_CONFIG,
  MULTILABEL_TRAINING_SETS,
  RED,
} from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const PER_SET = MULTILABEL_PICTURES_PER_SET;

const binary = (response: Response, done: (error: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => done(null, Buffer.concat(chunks)));
};

describe('multilabel projects: several labels per image, independent probabilities', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  let trainedIterationId: string | undefined;

  const images = (query = '') =>
    client.http.get(`/v1/projects/${project.id}/images${query}`).set('Authorization', client.auth).expect(200);

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    project = await client.createProject('multilabel', ['red', 'green', 'blue']);
    let seed = 100;
    for (const set of MULTILABEL_TRAINING_SETS) {
      const files = await Promise.all(Array.from({ length: PER_SET }, () => colourPicture(set, seed++)));
      await client.upload(project.id, files, { labels: JSON.stringify(set) }, set.join('-'));
    }
  }, 60_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('keeps every label of an image, lists images by any of them, and counts each label', async () => {
    const [created] = await client.upload(
      project.id,
      [await colourPicture(['red', 'blue'], 1)],
      { labels: JSON.stringify(['red', 'BLUE']), split: 'test' },
      'both',
    );
    const image = await client.http
      .get(`/v1/projects/${project.id}/images/${created.id}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(image.body.label).toBeNull();
    expect(image.body.labels.map((label: { name: string }) => label.name).sort()).toEqual(['blue', 'red']);

    // Labels of one image by name or id; [] untags it, as in Custom Vision.
    const relabeled = await client.http
      .put(`/v1/projects/${project.id}/images/${created.id}/label`)
      .set('Authorization', client.auth)
      .send({ labels: ['green', project.labels.red] })
      .expect(200);
    expect(relabeled.body.labels.map((label: { name: string }) => label.name).sort()).toEqual(['green', 'red']);
    const untagged = await client.http
      .put(`/v1/projects/${project.id}/images/${created.id}/label`)
      .set('Authorization', client.auth)
      .send({ labels: [] })
      .expect(200);
    expect(untagged.body.labels).toEqual([]);
    expect((await images('?unlabeled=true')).body.items.map((item: { id: string }) => item.id)).toEqual([created.id]);
    const batch = await client.http
      .post(`/v1/projects/${project.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: created.id, labels: ['red', 'blue'] }] })
      .expect(200);
    expect(batch.body).toMatchObject({ updated: 1, failed: 0 });

    // 4 of the 6 training sets hold each colour (PER_SET images each), and the test image red and blue.
    expect((await images('?label=green&limit=100')).body.items).toHaveLength(4 * PER_SET);
    expect((await images('?label=red&limit=100')).body.items).toHaveLength(3 * PER_SET + 1);
    const analysis = await client.http
      .get(`/v1/projects/${project.id}/analysis`)
      .set('Authorization', client.auth)
      .expect(200);
    const counts = Object.fromEntries(
      analysis.body.perLabel.map((entry: { label: { name: string }; count: number }) => [
        entry.label.name,
        entry.count,
      ]),
    );
    expect(counts).toEqual({ red: 3 * PER_SET + 1, green: 4 * PER_SET, blue: 3 * PER_SET + 1 });
    expect(analysis.body).toMatchObject({ labeledCount: 6 * PER_SET + 1, unlabeledCount: 0, ready: true });
  });

  it('refuses several labels on a classification project and whole-image labels on a detection project', async () => {
    const single = await client.createProject('classification', ['cat', 'dog']);
    const [image] = await client.upload(single.id, await colouredSquares(RED, 1, 9), { label: 'cat' });
    const twoLabels = await client.http
      .put(`/v1/projects/${single.id}/images/${image.id}/label`)
      .set('Authorization', client.auth)
      .send({ labels: ['cat', 'dog'] })
      .expect(400);
    expect(twoLabels.body.code).toBe('TOO_MANY_LABELS');
    expect(twoLabels.body.message).toContain('create a multilabel project');
    const nothing = await client.http
      .put(`/v1/projects/${single.id}/images/${image.id}/label`)
      .set('Authorization', client.auth)
      .send({})
      .expect(400);
    expect(nothing.body.code).toBe('NOTHING_TO_LABEL');
    // One label in a list is a classification label like any other.
    const one = await client.http
      .put(`/v1/projects/${single.id}/images/${image.id}/label`)
      .set('Authorization', client.auth)
      .send({ labels: ['dog'] })
      .expect(200);
    expect(one.body.label.name).toBe('dog');
    expect(one.body.labels.map((label: { name: string }) => label.name)).toEqual(['dog']);

    const upload = await client.http
      .post(`/v1/projects/${single.id}/images`)
      .set('Authorization', client.auth)
      .attach('images', (await colouredSquares(BLUE, 1, 10))[0], 'b.png')
      .field('labels', JSON.stringify(['cat', 'dog']));
    expect(upload.status).toBe(400);
    expect(upload.body.code).toBe('TOO_MANY_LABELS');
    const batch = await client.http
      .post(`/v1/projects/${single.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: image.id, labels: ['cat', 'dog'] }] })
      .expect(207);
    expect(batch.body.items[0]).toMatchObject({ status: 'failed', error: { code: 'TOO_MANY_LABELS' } });

    const notJson = await client.http
      .post(`/v1/projects/${project.id}/images`)
      .set('Authorization', client.auth)
      .attach('images', (await colouredSquares(BLUE, 1, 11))[0], 'c.png')
      .field('labels', '["red", 3]');
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe('INVALID_LABELS');

    const detection = await client.createProject('detection', ['car']);
    const [box] = await client.upload(detection.id, await colouredSquares(RED, 1, 12));
    const wrong = await client.http
      .put(`/v1/projects/${detection.id}/images/${box.id}/label`)
      .set('Authorization', client.auth)
      .send({ labels: ['car'] })
      .expect(400);
    expect(wrong.body.code).toBe('WRONG_PROJECT_TYPE');
  });

  it('trains independent per-label probabilities: an unseen red-and-blue picture gets both labels and not green', async () => {
    await client.configureTraining(project.id, MULTILABEL_TRAINING_CONFIG);
    const queued = await client.train(project.id);
    const iteration = await client.waitForIteration(project.id, queued.id, 120_000);
    expect(iteration.status).toBe('completed');
    expect(iteration.architecture).toBe('small-cnn');
    trainedIterationId = queued.id;
    // Custom Vision's multilabel figures at 50 %: per label precision, recall and AP, overall precision, recall, mAP.
    expect(iteration.metrics.map).toBeGreaterThanOrEqual(0.9);
    expect(iteration.metrics.precision).toBeGreaterThanOrEqual(0.8);
    expect(iteration.metrics.recall).toBeGreaterThanOrEqual(0.8);
    expect(iteration.metrics.perLabel.map((label: { label: string }) => label.label).sort()).toEqual([
      'blue',
      'green',
      'red',
    ]);
    expect(Object.keys(iteration.metrics.perLabel[0]).sort()).toEqual([
      'ap',
      'f1',
      'label',
      'precision',
      'recall',
      'support',
    ]);
    const strict = await client.http
      .get(`/v1/projects/${project.id}/iterations/${queued.id}/metrics?threshold=0.99`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(strict.body).toMatchObject({ task: 'multilabel', threshold: 0.99, map: iteration.metrics.map });
    expect(strict.body.recall).toBeLessThanOrEqual(iteration.metrics.recall);

    for (const seed of [501, 502, 503]) {
      const answer = await client.http
        .post(`/v1/projects/${project.id}/iterations/${queued.id}/quick-test`)
        .set('Authorization', client.auth)
        .set('Content-Type', 'image/png')
        .send(await colourPicture(['red', 'blue'], seed))
        .expect(200);
      const probability = Object.fromEntries(
        answer.body.predictions.map((prediction: { label: string; probability: number }) => [
          prediction.label,
          prediction.probability,
        ]),
      );
      expect(probability.red).toBeGreaterThan(0.5);
      expect(probability.blue).toBeGreaterThan(0.5);
      expect(probability.green).toBeLessThan(0.5);
      // Independent probabilities: they do not share one unit between them.
      expect(probability.red + probability.blue + probability.green).toBeGreaterThan(1);
    }

    // The test split (the red-and-blue picture of the first test) is tested likewise.
    const run = await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/test-runs`)
      .set('Authorization', client.auth)
      .send({ split: 'test' })
      .expect(202);
    let tested = run.body;
    for (const deadline = Date.now() + 60_000; tested.status === 'requested' && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      tested = (
        await client.http
          .get(`/v1/projects/${project.id}/iterations/${queued.id}/test-runs/${run.body.id}`)
          .set('Authorization', client.auth)
          .expect(200)
      ).body;
    }
    expect(tested.status).toBe('completed');
    expect(tested.metrics).toMatchObject({ task: 'multilabel', threshold: 0.5, precision: 1, recall: 1 });

    // Suggestions for an untagged picture: every label with its probability; accepted, the likely ones become its set.
    const [untagged] = await client.upload(project.id, [await colourPicture(['green', 'blue'], 701)], {}, 'untagged');
    const suggestions = `/v1/projects/${project.id}/iterations/${queued.id}/suggestions`;
    const requested = await client.http
      .post(suggestions)
      .set('Authorization', client.auth)
      .send({ imageIds: [untagged.id] })
      .expect(202);
    let suggestionRun = requested.body;
    for (const deadline = Date.now() + 60_000; suggestionRun.status === 'requested' && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      suggestionRun = (
        await client.http.get(`${suggestions}/runs/${suggestionRun.id}`).set('Authorization', client.auth).expect(200)
      ).body;
    }
    expect(suggestionRun).toMatchObject({ status: 'completed', suggestedCount: 1 });
    const [suggestion] = (await client.http.get(suggestions).set('Authorization', client.auth).expect(200)).body.items;
    expect(suggestion.predictions).toHaveLength(3);
    const wrongEdit = await client.http
      .post(`${suggestions}/accept`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: untagged.id, label: 'red' }] });
    expect(wrongEdit.body.items[0].error.code).toBe('EDIT_DOES_NOT_FIT');
    await client.http
      .post(`${suggestions}/accept`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: untagged.id }] })
      .expect(200);
    const accepted = await client.http
      .get(`/v1/projects/${project.id}/images/${untagged.id}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(accepted.body.labels.map((label: { name: string }) => label.name).sort()).toEqual(['blue', 'green']);
  }, 180_000);

  it("holds out each label's share of the photos for validation, a photo by its rarest label; a reproduction draws the same", async () => {
    // Blue is only ever beside red, on 5 of 40 photos: one random fifth of the 40 may take none of them.
    const rare = await client.createProject('multilabel', ['red', 'green', 'blue'], 'rare blue');
    let seed = 900;
    for (const [set, count] of [
      [['red'], 30],
      [['red', 'blue'], 5],
      [['green'], 5],
    ] as const) {
      const files = await Promise.all(Array.from({ length: count }, () => colourPicture(set, seed++)));
      await client.upload(rare.id, files, { labels: JSON.stringify(set) }, set.join('-'));
    }
    const queued = await client.train(rare.id, { ...MULTILABEL_TRAINING_CONFIG, epochs: 2, validationSplit: 0.2 });
    const iteration = await client.waitForIteration(rare.id, queued.id, 120_000);
    // A fifth of each group: 6 of the 30 red, 1 of the 5 red-and-blue (blue is their rarest label), 1 of the 5 green.
    expect(iteration).toMatchObject({ status: 'completed', trainCount: 32, validationCount: 8 });
    const support = Object.fromEntries(
      iteration.metrics.perLabel.map((label: { label: string; support: number }) => [label.label, label.support]),
    );
    expect(support).toEqual({ red: 7, green: 1, blue: 1 });
    const history = await client.http
      .get(`/v1/projects/${rare.id}/history?type=IterationQueued`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(history.body.items[0].data).toMatchObject({ task: 'multilabel', multilabelSplitByLabel: true });

    const reproduction = await client.http
      .post(`/v1/projects/${rare.id}/iterations/${queued.id}/reproduce`)
      .set('Authorization', client.auth)
      .expect(202);
    const reproduced = await client.waitForIteration(rare.id, reproduction.body.id, 120_000);
    expect(reproduced).toMatchObject({
      trainCount: 32,
      validationCount: 8,
      metrics: iteration.metrics,
      reproduction: { sameMetrics: true, sameModel: true },
    });
  }, 240_000);

  it('exports and imports the project and its model as multilabel', async () => {
    if (!trainedIterationId) throw new Error('the training test runs before this one');
    const archive = await client.http
      .post(`/v1/projects/${project.id}/export`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse(binary)
      .expect(200);
    const imported = await client.http
      .post('/v1/projects/import')
      .set('Authorization', client.auth)
      .attach('archive', archive.body as Buffer, 'project.diyml.zip')
      .expect(201);
    expect(imported.body.project).toMatchObject({ type: 'multilabel' });
    const copies = await client.http
      .get(`/v1/projects/${imported.body.project.id}/images?label=green&limit=100`)
      .set('Authorization', client.auth)
      .expect(200);
    // The green training pictures, and the green-and-blue one labeled from suggestions.
    expect(copies.body.items).toHaveLength(4 * PER_SET + 1);
    expect(copies.body.items[0].labels.length).toBeGreaterThanOrEqual(1);

    // The model file says it is multilabel: it imports into a multilabel project and predicts independently.
    const model = await client.http
      .get(`/v1/projects/${project.id}/iterations/${trainedIterationId}/model?format=tfjs`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse(binary)
      .expect(200);
    const target = await client.createProject('multilabel', ['red', 'green', 'blue'], 'imported model');
    const importedModel = await client.http
      .post(`/v1/projects/${target.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', model.body as Buffer, 'model.zip')
      .expect(201);
    const answer = await client.http
      .post(`/v1/projects/${target.id}/iterations/${importedModel.body.id}/quick-test`)
      .set('Authorization', client.auth)
      .set('Content-Type', 'image/png')
      .send(await colourPicture(['red', 'blue'], 601))
      .expect(200);
    const given = answer.body.predictions
      .filter((prediction: { probability: number }) => prediction.probability > 0.5)
      .map((prediction: { label: string }) => prediction.label)
      .sort();
    expect(given).toEqual(['blue', 'red']);
    const single = await client.createProject('classification', ['red', 'green', 'blue'], 'single label');
    const refused = await client.http
      .post(`/v1/projects/${single.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', model.body as Buffer, 'model.zip')
      .expect(400);
    expect(refused.body.code).toBe('MODEL_TASK_MISMATCH');
  });
  it('adds stored predictions to the dataset with the labels predicted from 50 %, or with corrected ones', async () => {
    if (!trainedIterationId) throw new Error('the training test runs before this one');
    const deployment = (
      await client.http
        .post(`/v1/projects/${project.id}/deployments`)
        .set('Authorization', client.auth)
        .send({ iterationId: trainedIterationId, name: 'colours' })
        .expect(201)
    ).body as { id: string; apiKey: string };
    await client.http
      .put(`/v1/projects/${project.id}/deployments/${deployment.id}/prediction-store`)
      .set('Authorization', client.auth)
      .send({ enabled: true })
      .expect(200);
    for (const seed of [801, 802]) {
      await client.http
        .post(`/v1/predict/${deployment.id}`)
        .set('X-Api-Key', deployment.apiKey)
        .set('Content-Type', 'image/png')
        .send(await colourPicture(['red', 'blue'], seed))
        .expect(200);
    }
    const stored = await client.http
      .get(`/v1/projects/${project.id}/predictions`)
      .set('Authorization', client.auth)
      .expect(200);
    const [asPredicted, corrected] = stored.body.items as {
      id: string;
      predictions: { label: string; probability: number }[];
    }[];
    const promoted = await client.http
      .post(`/v1/projects/${project.id}/predictions/promote`)
      .set('Authorization', client.auth)
      .send({ items: [{ predictionId: asPredicted.id }, { predictionId: corrected.id, labels: ['green', 'RED'] }] })
      .expect(200);
    const labelsOf = async (imageId: string) =>
      (
        await client.http
          .get(`/v1/projects/${project.id}/images/${imageId}`)
          .set('Authorization', client.auth)
          .expect(200)
      ).body.labels
        .map((label: { name: string }) => label.name)
        .sort();
    const [firstImage, secondImage] = promoted.body.items.map((item: { imageId: string }) => item.imageId);
    const predictedFromHalf = asPredicted.predictions
      .filter((prediction) => prediction.probability >= 0.5)
      .map((prediction) => prediction.label)
      .sort();
    expect(predictedFromHalf.length).toBeGreaterThan(0);
    expect(await labelsOf(firstImage)).toEqual(predictedFromHalf);
    expect(await labelsOf(secondImage)).toEqual(['green', 'red']);
  });
});
