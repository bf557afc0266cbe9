import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { colourPicture } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

interface TestRun {
  id: string;
  status: string;
  imageCount: number;
  metrics: { precision: number; recall: number };
  predictions: { filename: string; imageId: string; expected: string[]; predicted: string[]; correct: boolean }[];
}

/** "Test on the test split" tests the photos training would learn from: included ones, negative ones too. */
describe('a test run on the test split of a multilabel project', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let run: TestRun;
  const testPhotos: Record<'red' | 'excluded' | 'negative', string> = { red: '', excluded: '', negative: '' };

  const as = <T extends { set(name: string, value: string): T }>(request: T) =>
    request.set('Authorization', client.auth);
  const pictures = (colours: ('red' | 'blue')[], first: number) =>
    Promise.all(Array.from({ length: 8 }, (_, index) => colourPicture(colours, first + index)));

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    const project = await client.createProject('multilabel', ['red', 'blue', 'nothing']);
    await as(client.http.put(`/v1/projects/${project.id}/labels/${project.labels.nothing}/negative`)).expect(200);
    await client.upload(project.id, await pictures(['red'], 100), { labels: JSON.stringify(['red']) }, 'red');
    await client.upload(project.id, await pictures(['blue'], 200), { labels: JSON.stringify(['blue']) }, 'blue');
    await client.upload(project.id, await pictures([], 300), { labels: JSON.stringify(['nothing']) }, 'blank');

    const upload = async (colours: ('red' | 'blue')[], labels: string[], name: string, seed: number) =>
      (
        await client.upload(
          project.id,
          [await colourPicture(colours, seed)],
          { labels: JSON.stringify(labels), split: 'test' },
          name,
        )
      )[0].id!;
    testPhotos.red = await upload(['red'], ['red'], 'test-red', 400);
    // Excluded by the user (blurry, wrong): neither trained on nor tested.
    testPhotos.excluded = await upload(['blue'], ['blue'], 'test-excluded', 401);
    await as(client.http.patch(`/v1/projects/${project.id}/images/${testPhotos.excluded}`))
      .send({ included: false })
      .expect(200);
    // Marked "none of these", though the model takes it for red: a false positive the test run must count.
    testPhotos.negative = await upload(['red'], ['nothing'], 'test-negative', 402);

    const queued = await client.train(project.id, {
      architecture: 'small-cnn',
      imageSize: 24,
      epochs: 20,
      batchSize: 8,
      learningRate: 0.003,
      seed: 3,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
    });
    expect((await client.waitForIteration(project.id, queued.id, 120_000)).status).toBe('completed');

    const runs = `/v1/projects/${project.id}/iterations/${queued.id}/test-runs`;
    run = (await as(client.http.post(runs)).send({ split: 'test' }).expect(202)).body as TestRun;
    for (const deadline = Date.now() + 60_000; run.status === 'requested' && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = (await as(client.http.get(`${runs}/${run.id}`)).expect(200)).body as TestRun;
    }
    expect(run.status).toBe('completed');
  }, 180_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('leaves out a test photo the user excluded from the dataset', () => {
    expect(run.predictions.map((prediction) => prediction.imageId)).not.toContain(testPhotos.excluded);
    expect(run.imageCount).toBe(2);
  });

  it('tests a negative photo with every label absent, so a label found on it lowers precision', () => {
    const negative = run.predictions.find((prediction) => prediction.imageId === testPhotos.negative);
    expect(negative).toMatchObject({ expected: [], predicted: ['red'], correct: false });
    const red = run.predictions.find((prediction) => prediction.imageId === testPhotos.red);
    expect(red).toMatchObject({ expected: ['red'], predicted: ['red'], correct: true });
    // One red found rightly, one on the "none of these" photo.
    expect(run.metrics).toMatchObject({ precision: 0.5, recall: 1 });
  });
});
