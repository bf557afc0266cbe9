import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, colourPicture, RED, squareScenes } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/** A small CNN on 16 px squares: a run takes a second or two. */
const SMALL_CNN = {
  architecture: 'small-cnn',
  imageSize: 16,
  epochs: 2,
  batchSize: 8,
  learningRate: 0.01,
  seed: 5,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

/** What an iteration trains and validates on: exactly the images that teach the model something. */
describe('the dataset an iteration trains and validates on', () => {
  let testApp: TestApp;
  let client: ApiClient;
  const as = <T extends { set(name: string, value: string): T }>(request: T) =>
    request.set('Authorization', client.auth);

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('holds out validationSplit of each label although an unlabeled photo sits in the validation split', async () => {
    const project = await client.createProject('classification', ['red', 'blue']);
    await client.upload(project.id, await colouredSquares(RED, 6, 1), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 6, 2), { label: 'blue' }, 'blue');
    // Not labeled yet: it teaches nothing, so it must not turn off the held-out share of the labeled photos.
    await client.upload(project.id, [await colourPicture([], 3)], { split: 'validation' }, 'unlabeled');

    const queued = await client.train(project.id, SMALL_CNN);
    const iteration = await client.waitForIteration(project.id, queued.id);
    expect(iteration).toMatchObject({ status: 'completed', imageCount: 12, trainCount: 10, validationCount: 2 });
    const metrics = await as(client.http.get(`/v1/projects/${project.id}/iterations/${queued.id}/metrics`)).expect(200);
    expect(
      metrics.body.perLabel.map((label: { label: string; support: number }) => [label.label, label.support]),
    ).toEqual([
      ['red', 1],
      ['blue', 1],
    ]);
  });

  it('holds out validationSplit of a multilabel project although an untagged photo sits in the validation split', async () => {
    const project = await client.createProject('multilabel', ['red', 'blue']);
    const pictures = (colours: ('red' | 'blue')[], seeds: number[]) =>
      Promise.all(seeds.map((seed) => colourPicture(colours, seed)));
    await client.upload(project.id, await pictures(['red'], [40, 41, 42, 43, 44, 45]), { labels: '["red"]' }, 'red');
    await client.upload(project.id, await pictures(['blue'], [50, 51, 52, 53, 54, 55]), { labels: '["blue"]' }, 'blue');
    await client.upload(project.id, [await colourPicture([], 56)], { split: 'validation' }, 'untagged');

    const queued = await client.train(project.id, SMALL_CNN);
    const iteration = await client.waitForIteration(project.id, queued.id);
    expect(iteration).toMatchObject({ status: 'completed', imageCount: 12, trainCount: 10, validationCount: 2 });
    expect(iteration.metrics.perLabel.map((label: { support: number }) => label.support)).toEqual([1, 1]);
  });

  it('reproduces on the frozen dataset after photos were removed, relabeled and added and a label renamed', async () => {
    const project = await client.createProject('classification', ['red', 'blue']);
    const reds = await client.upload(project.id, await colouredSquares(RED, 6, 11), { label: 'red' }, 'red');
    const blues = await client.upload(project.id, await colouredSquares(BLUE, 6, 12), { label: 'blue' }, 'blue');
    const queued = await client.train(project.id, SMALL_CNN);
    const original = await client.waitForIteration(project.id, queued.id);
    expect(original.status).toBe('completed');
    const metrics = await as(client.http.get(`/v1/projects/${project.id}/iterations/${queued.id}/metrics`)).expect(200);
    // The metrics asked for at the default threshold are the ones training reported.
    expect({ accuracy: metrics.body.accuracy, confusionMatrix: metrics.body.confusionMatrix }).toEqual({
      accuracy: original.metrics.accuracy,
      confusionMatrix: original.metrics.confusionMatrix,
    });

    await as(client.http.delete(`/v1/projects/${project.id}/images/${reds[0].id}`)).expect(204);
    await as(client.http.put(`/v1/projects/${project.id}/images/${blues[0].id}/label`))
      .send({ label: 'red' })
      .expect(200);
    await as(client.http.patch(`/v1/projects/${project.id}/labels/${project.labels.blue}`))
      .send({ name: 'navy' })
      .expect(200);
    await client.upload(project.id, await colouredSquares(RED, 2, 13), { label: 'red' }, 'new-red');

    const reproduction = await as(
      client.http.post(`/v1/projects/${project.id}/iterations/${queued.id}/reproduce`),
    ).expect(202);
    const reproduced = await client.waitForIteration(project.id, reproduction.body.id);
    expect(reproduced).toMatchObject({
      status: 'completed',
      imageCount: 12,
      manifestSha256: original.manifestSha256,
      reproduction: { sameMetrics: true, sameModel: true },
    });
    expect(reproduced.metrics.confusionMatrix.labels).toEqual(['red', 'blue']);
    const dataset = await as(client.http.get(`/v1/projects/${project.id}/iterations/${reproduced.id}/dataset`)).expect(
      200,
    );
    expect(dataset.body.labels.map((label: { name: string }) => label.name)).toEqual(['red', 'blue']);
    expect(dataset.body.images.map((image: { id: string }) => image.id)).toContain(reds[0].id);
  });

  it('trains and validates a detector on its photos with boxes only, as the analysis says', async () => {
    const project = await client.createProject('detection', ['red', 'blue']);
    const scenes = await squareScenes([RED, BLUE], 40, 21);
    const boxed = await client.upload(
      project.id,
      scenes.map((scene) => scene.png),
      {},
      'boxed',
    );
    const names = ['red', 'blue'];
    await as(client.http.post(`/v1/projects/${project.id}/images/labels`))
      .send({
        items: boxed.map((item, index) => ({
          imageId: item.id,
          regions: scenes[index].boxes.map(({ label, x, y, width, height }) => ({
            label: names[label],
            x,
            y,
            width,
            height,
          })),
        })),
      })
      .expect((response) => expect(response.status).toBeLessThan(300));
    // Photos of squares not boxed yet: learning them as "nothing here" would teach the detector to miss squares.
    const unboxedScenes = await squareScenes([RED, BLUE], 6, 22);
    await client.upload(
      project.id,
      unboxedScenes.map((scene) => scene.png),
      {},
      'unboxed',
    );
    const analysis = await as(client.http.get(`/v1/projects/${project.id}/analysis`)).expect(200);
    expect(analysis.body).toMatchObject({ ready: true, labeledCount: 40, unlabeledCount: 6 });

    const queued = await client.train(project.id, {
      architecture: 'tiny-detector',
      imageSize: 32,
      epochs: 1,
      seed: 3,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
    });
    const iteration = await client.waitForIteration(project.id, queued.id, 120_000);
    expect(iteration.status).toBe('completed');
    expect({ images: iteration.imageCount, trained: iteration.trainCount + iteration.validationCount }).toEqual({
      images: 40,
      trained: 40,
    });
    const performances = await as(
      client.http.get(`/v1/projects/${project.id}/iterations/${queued.id}/image-performances?limit=100`),
    ).expect(200);
    const validated = (performances.body.items as { filename: string; expected: unknown[] }[]).map(
      (item) => item.filename,
    );
    expect(validated).toHaveLength(iteration.validationCount);
    expect(validated.filter((filename) => filename.startsWith('unboxed'))).toEqual([]);
  }, 180_000);

  it('leaves a negative label that has no training photo out of the classes a model learns', async () => {
    const project = await client.createProject('classification', ['red', 'blue', 'nothing']);
    await as(client.http.put(`/v1/projects/${project.id}/labels/${project.labels.nothing}/negative`)).expect(200);
    await client.upload(project.id, await colouredSquares(RED, 6, 31), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 6, 32), { label: 'blue' }, 'blue');
    // Kept for "test on the test split": readiness does not count the negative label, so training must not either.
    await client.upload(project.id, [await colourPicture([], 33), await colourPicture([], 34)], {
      label: 'nothing',
      split: 'test',
    });
    const analysis = await as(client.http.get(`/v1/projects/${project.id}/analysis`)).expect(200);
    expect(analysis.body).toMatchObject({ ready: true, problems: [] });

    const queued = await client.train(project.id, SMALL_CNN);
    const iteration = await client.waitForIteration(project.id, queued.id);
    expect(iteration.status).toBe('completed');
    expect(iteration.metrics.confusionMatrix.labels).toEqual(['red', 'blue']);
  });
});
