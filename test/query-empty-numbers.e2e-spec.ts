import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { colourPicture } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/** A numeric query parameter sent with no value (`?threshold=`, as a cleared form field sends it) is not given. */
describe('numeric query parameters sent empty', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  let metricsUrl: string;

  const get = (url: string) => client.http.get(url).set('Authorization', client.auth);

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    project = await client.createProject('multilabel', ['red', 'blue']);
    for (const [colour, first] of [
      ['red', 100],
      ['blue', 200],
    ] as const) {
      const pictures = await Promise.all(
        Array.from({ length: 6 }, (_, index) => colourPicture([colour], first + index)),
      );
      await client.upload(project.id, pictures, { labels: JSON.stringify([colour]) }, colour);
    }
    const queued = await client.train(project.id, {
      architecture: 'small-cnn',
      imageSize: 16,
      epochs: 3,
      batchSize: 8,
      learningRate: 0.003,
      seed: 3,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
    });
    expect((await client.waitForIteration(project.id, queued.id, 120_000)).status).toBe('completed');
    metricsUrl = `/v1/projects/${project.id}/iterations/${queued.id}/metrics`;
  }, 180_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('gives the metrics at the default threshold for ?threshold= (multilabel: 0.5), not at 0', async () => {
    const byDefault = (await get(metricsUrl).expect(200)).body;
    expect(byDefault.threshold).toBe(0.5);
    expect((await get(`${metricsUrl}?threshold=`).expect(200)).body).toEqual(byDefault);
    expect((await get(`${metricsUrl}?threshold=%20`).expect(200)).body).toEqual(byDefault);
  });

  it('lists a page of the default size for ?limit=', async () => {
    const all = (await get(`/v1/projects/${project.id}/images`).expect(200)).body.items as { id: string }[];
    expect(all).toHaveLength(12);
    const listed = await get(`/v1/projects/${project.id}/images?limit=`).expect(200);
    expect(listed.body.items.map((image: { id: string }) => image.id)).toEqual(all.map((image) => image.id));
  });

  it('serves the thumbnail of the default size for ?size=', async () => {
    const [image] = (await get(`/v1/projects/${project.id}/images?limit=1`).expect(200)).body.items as { id: string }[];
    const thumbnail = `/v1/projects/${project.id}/images/${image.id}/thumbnail`;
    const byDefault = await get(thumbnail).expect(200);
    expect((await get(`${thumbnail}?size=`).expect(200)).headers.etag).toBe(byDefault.headers.etag);
  });

  it('still refuses a value that is not a number, naming the parameter', async () => {
    const refused = await get(`${metricsUrl}?threshold=high`).expect(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(refused.body.details).toEqual([expect.objectContaining({ field: 'threshold' })]);
  });
});
