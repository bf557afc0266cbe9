import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';

/** Sequences of dataset edits a person makes, and what the images, counts and suggestions show after them. */
describe('labeling edits in sequence', () => {
  let testApp: TestApp;
  let client: ApiClient;

  const get = (path: string) => client.http.get(path).set('Authorization', client.auth);
  const send = (method: 'post' | 'put' | 'patch' | 'delete', path: string, body?: object) =>
    client.http[method](path)
      .set('Authorization', client.auth)
      .send(body ?? {});

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  }, 60_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('accepts a suggestion for an image whose label was removed from the project: the list shows it unlabeled', async () => {
    const project = await client.createProject('classification', ['red', 'blue', 'old']);
    const [{ id: imageId }] = await client.upload(project.id, await colouredSquares(RED, 1, 11), { label: 'old' });
    await send('delete', `/v1/projects/${project.id}/labels/${project.labels.old}`).expect(204);
    const unlabeled = (await get(`/v1/projects/${project.id}/images?unlabeled=true`).expect(200)).body;
    expect(unlabeled.items.map((image: { id: string }) => image.id)).toEqual([imageId]);

    const iteration = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    const suggestions = `/v1/projects/${project.id}/iterations/${iteration.body.id}/suggestions`;
    const requested = await send('post', suggestions, {}).expect(202);
    expect(requested.body.imageCount).toBe(1);
    for (;;) {
      const run = (await get(`${suggestions}/runs/${requested.body.id}`).expect(200)).body;
      if (run.status !== 'requested') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const accepted = await send('post', `${suggestions}/accept`, { items: [{ imageId, label: 'blue' }] });
    expect(accepted.body).toMatchObject({ accepted: 1, failed: 0, items: [{ imageId, status: 'accepted' }] });
    const image = (await get(`/v1/projects/${project.id}/images/${imageId}`).expect(200)).body;
    expect(image.label.name).toBe('blue');
  }, 120_000);
});
