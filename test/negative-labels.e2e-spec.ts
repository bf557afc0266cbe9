import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { BLUE, colourPicture, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

describe('negative labels: "this image shows none of the labels"', () => {
  let testApp: TestApp;
  let client: ApiClient;

  const as = <T extends { set(name: string, value: string): T }>(request: T) =>
    request.set('Authorization', client.auth);
  const labelsOf = async (projectId: string) =>
    (await as(client.http.get(`/v1/projects/${projectId}/labels`)).expect(200)).body.items as {
      name: string;
      negative: boolean;
      imageCount: number;
    }[];

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  }, 60_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('keeps one negative label per project: added as such, marked, unmarked', async () => {
    const project = await client.createProject('classification', ['cat', 'dog']);
    const none = await as(client.http.post(`/v1/projects/${project.id}/labels`))
      .send({ name: 'nothing', negative: true })
      .expect(201);
    expect(none.body).toMatchObject({ name: 'nothing', negative: true });

    const second = await as(client.http.post(`/v1/projects/${project.id}/labels`))
      .send({ name: 'empty', negative: true })
      .expect(409);
    expect(second.body).toMatchObject({ code: 'NEGATIVE_LABEL_EXISTS', details: { name: 'nothing' } });
    expect(second.body.message).toContain('"nothing"');
    const marked = await as(client.http.put(`/v1/projects/${project.id}/labels/${project.labels.cat}/negative`)).expect(
      409,
    );
    expect(marked.body.code).toBe('NEGATIVE_LABEL_EXISTS');
    // Nothing was added by the refusals.
    expect((await labelsOf(project.id)).map(({ name, negative }) => [name, negative])).toEqual([
      ['cat', false],
      ['dog', false],
      ['nothing', true],
    ]);

    const unmarked = await as(client.http.delete(`/v1/projects/${project.id}/labels/${none.body.id}/negative`)).expect(
      200,
    );
    expect(unmarked.body).toMatchObject({ name: 'nothing', negative: false });
    const cat = await as(client.http.put(`/v1/projects/${project.id}/labels/${project.labels.cat}/negative`)).expect(
      200,
    );
    expect(cat.body).toMatchObject({ name: 'cat', negative: true });
    // Marking it again changes nothing (same revision).
    const again = await as(client.http.put(`/v1/projects/${project.id}/labels/${project.labels.cat}/negative`)).expect(
      200,
    );
    expect(again.headers.etag).toBe(cat.headers.etag);
    const read = await as(client.http.get(`/v1/projects/${project.id}`)).expect(200);
    expect(read.body.labels.find((label: { name: string }) => label.name === 'cat').negative).toBe(true);
  });

  it('refuses a negative label in a detection project', async () => {
    const detection = await client.createProject('detection', ['car']);
    const marked = await as(
      client.http.put(`/v1/projects/${detection.id}/labels/${detection.labels.car}/negative`),
    ).expect(400);
    expect(marked.body.code).toBe('NEGATIVE_LABEL_NOT_FOR_DETECTION');
    const added = await as(client.http.post(`/v1/projects/${detection.id}/labels`))
      .send({ name: 'nothing', negative: true })
      .expect(400);
    expect(added.body.code).toBe('NEGATIVE_LABEL_NOT_FOR_DETECTION');
    expect((await labelsOf(detection.id)).map((label) => label.name)).toEqual(['car']);
  });

  it('lets an image carry the negative label only alone', async () => {
    const project = await client.createProject('multilabel', ['red', 'green', 'nothing']);
    const [both] = await client.upload(project.id, [await colourPicture(['red', 'green'], 1)], {
      labels: JSON.stringify(['red', 'green']),
    });
    // A label already beside another one on an image cannot become negative; the images are named.
    const refused = await as(
      client.http.put(`/v1/projects/${project.id}/labels/${project.labels.red}/negative`),
    ).expect(409);
    expect(refused.body).toMatchObject({ code: 'NEGATIVE_AND_REGULAR_LABEL', details: { imageIds: [both.id] } });

    await as(client.http.put(`/v1/projects/${project.id}/labels/${project.labels.nothing}/negative`)).expect(200);
    const mixed = await as(client.http.put(`/v1/projects/${project.id}/images/${both.id}/label`))
      .send({ labels: ['nothing', 'red'] })
      .expect(400);
    expect(mixed.body.code).toBe('NEGATIVE_AND_REGULAR_LABEL');
    expect(mixed.body.message).toContain('negative label alone');
    const upload = await as(client.http.post(`/v1/projects/${project.id}/images`))
      .attach('images', await colourPicture([], 2), 'blank.png')
      .field('labels', JSON.stringify(['green', 'nothing']));
    expect(upload.status).toBe(400);
    expect(upload.body.code).toBe('NEGATIVE_AND_REGULAR_LABEL');

    const alone = await as(client.http.put(`/v1/projects/${project.id}/images/${both.id}/label`))
      .send({ labels: ['nothing'] })
      .expect(200);
    expect(alone.body.labels.map((label: { name: string }) => label.name)).toEqual(['nothing']);
    expect((await labelsOf(project.id)).map(({ name, negative, imageCount }) => [name, negative, imageCount])).toEqual([
      ['red', false, 0],
      ['green', false, 0],
      ['nothing', true, 1],
    ]);
  });

  it('learns the negative label as a class of a classification model: it predicts "none of these", and test runs score its images', async () => {
    const project = await client.createProject('classification', ['red', 'blue', 'nothing']);
    await as(client.http.put(`/v1/projects/${project.id}/labels/${project.labels.nothing}/negative`)).expect(200);
    await client.upload(project.id, await colouredSquares(RED, 8, 30), { label: 'red' });
    await client.upload(project.id, await colouredSquares(BLUE, 8, 40), { label: 'blue' });
    const blank = (seed: number) => colourPicture([], seed);
    await client.upload(project.id, await Promise.all([50, 51, 52, 53, 54, 55, 56, 57].map(blank)), {
      label: 'nothing',
    });
    await client.upload(project.id, [await blank(60), await blank(61)], { label: 'nothing', split: 'test' });
    const analysis = await as(client.http.get(`/v1/projects/${project.id}/analysis`)).expect(200);
    expect(analysis.body).toMatchObject({ ready: true, problems: [] });

    const queued = await client.train(project.id, {
      architecture: 'small-cnn',
      imageSize: 16,
      epochs: 30,
      batchSize: 8,
      learningRate: 0.01,
      seed: 3,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
    });
    const iteration = await client.waitForIteration(project.id, queued.id);
    expect(iteration.status).toBe('completed');
    // The softmax head has a class for "none of these": the 8 negative images are learned beside the 16 others.
    expect(iteration.metrics.confusionMatrix.labels).toEqual(['red', 'blue', 'nothing']);
    expect(iteration.trainCount + iteration.validationCount).toBe(24);

    const deployment = await as(client.http.post(`/v1/projects/${project.id}/deployments`))
      .send({ iterationId: queued.id, name: 'none of these' })
      .expect(201);
    const predict = async (image: Buffer) =>
      (
        await testApp.http
          .post(`/v1/predict/${deployment.body.id}`)
          .set('Content-Type', 'image/png')
          .set('X-Api-Key', deployment.body.apiKey)
          .send(image)
          .expect(200)
      ).body.predictions as { label: string; probability: number }[];
    const ofNothing = await predict(await blank(900));
    expect(ofNothing.map((prediction) => prediction.label).sort()).toEqual(['blue', 'nothing', 'red']);
    expect(ofNothing[0]).toMatchObject({ label: 'nothing' });
    expect(ofNothing[0].probability).toBeGreaterThan(0.5);
    expect((await predict((await colouredSquares(RED, 1, 901))[0]))[0].label).toBe('red');

    // The test split's images of the negative label alone are scored like any other.
    const runs = `/v1/projects/${project.id}/iterations/${queued.id}/test-runs`;
    const requested = await as(client.http.post(runs)).send({ split: 'test' }).expect(202);
    expect(requested.body).toMatchObject({ imageCount: 2 });
    let run = requested.body;
    for (const deadline = Date.now() + 60_000; run.status === 'requested' && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = (await as(client.http.get(`${runs}/${run.id}`)).expect(200)).body;
    }
    expect(run.status).toBe('completed');
    expect(run.predictions.map((prediction: { expected: string }) => prediction.expected)).toEqual([
      'nothing',
      'nothing',
    ]);
    expect(run.predictions.every((prediction: { correct: boolean }) => prediction.correct)).toBe(true);
  });
});
