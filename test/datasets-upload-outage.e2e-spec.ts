import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { OutageEventStore } from './support/outage-event-store.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/**
 * An upload claims its bytes for the project, then records the image. When the connection to the log drops between
 * the two, the client is told 503 and sends the file again: it must end up with exactly one image, and the answer
 * must name an image that exists.
 */
describe('an upload cut off by a lost database connection, sent again', () => {
  let testApp: TestApp;
  let store: OutageEventStore;
  let auth: string;
  let seed = 9100;

  beforeAll(async () => {
    testApp = await startTestApp({
      eventStore: (dataDir, upcasters) => (store = new OutageEventStore(join(dataDir, 'events.sqlite'), upcasters)),
    });
    ({ auth } = await registerAndLogIn(testApp));
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  async function projectWithOneFile(): Promise<{ projectId: string; file: Buffer }> {
    const project = await testApp.http
      .post('/v1/projects')
      .set('Authorization', auth)
      .send({ name: 'outage', type: 'classification' })
      .expect(201);
    return { projectId: project.body.id, file: await generateImage((seed += 1)) };
  }

  const upload = (projectId: string, file: Buffer) =>
    testApp.http
      .post(`/v1/projects/${projectId}/images`)
      .set('Authorization', auth)
      .attach('images', file, { filename: 'photo.png' });

  async function listedIds(projectId: string): Promise<string[]> {
    const listed = await testApp.http.get(`/v1/projects/${projectId}/images`).set('Authorization', auth).expect(200);
    return listed.body.items.map((image: { id: string }) => image.id);
  }

  it('creates the image when the upload never reached the log, instead of naming the lost one as the original', async () => {
    const { projectId, file } = await projectWithOneFile();
    store.dropConnectionAt('ImageUploaded', { committed: false, stayAway: true });
    expect((await upload(projectId, file).expect(503)).body.code).toBe('DEPENDENCY_UNAVAILABLE');
    store.restore();

    const again = await upload(projectId, file).expect(201);
    expect(again.body.items).toEqual([{ filename: 'photo.png', status: 'created', id: expect.any(String) }]);
    expect(await listedIds(projectId)).toEqual([again.body.items[0].id]);
  });

  it('answers a duplicate of the image when the upload reached the log before the database went away', async () => {
    const { projectId, file } = await projectWithOneFile();
    store.dropConnectionAt('ImageUploaded', { committed: true, stayAway: true });
    await upload(projectId, file).expect(503);
    store.restore();

    const again = await upload(projectId, file).expect(201);
    expect(again.body.items).toEqual([{ filename: 'photo.png', status: 'duplicate', id: expect.any(String) }]);
    expect(await listedIds(projectId)).toEqual([again.body.items[0].id]);
  });

  it('does not record the image twice when only the answer of its upload was lost', async () => {
    const { projectId, file } = await projectWithOneFile();
    store.dropConnectionAt('ImageUploaded', { committed: true, stayAway: false });
    await upload(projectId, file).expect(503);

    const again = await upload(projectId, file).expect(201);
    expect(again.body.items).toEqual([{ filename: 'photo.png', status: 'duplicate', id: expect.any(String) }]);
    expect(await listedIds(projectId)).toEqual([again.body.items[0].id]);
  });

  it('creates the image when the claim on its bytes was recorded but its answer was lost', async () => {
    const { projectId, file } = await projectWithOneFile();
    store.dropConnectionAt('ImageContentClaimed', { committed: true, stayAway: true });
    await upload(projectId, file).expect(503);
    store.restore();

    const again = await upload(projectId, file).expect(201);
    expect(again.body.items).toEqual([{ filename: 'photo.png', status: 'created', id: expect.any(String) }]);
    expect(await listedIds(projectId)).toEqual([again.body.items[0].id]);
  });
});
