import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/** `café` as macOS names files and as a Mac keyboard may send it (decomposed: e + combining acute), and as typed elsewhere. */
const CAFE_DECOMPOSED = 'cafe\u0301';
const CAFE_COMPOSED = 'caf\u00e9';

describe('dataset archives made on a Mac', () => {
  let testApp: TestApp;
  let auth: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    ({ auth } = await registerAndLogIn(testApp));
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('labels the images of a folder with the project’s label of that name, in either Unicode form', async () => {
    const project = await testApp.http
      .post('/v1/projects')
      .set('Authorization', auth)
      .send({ name: 'mac-archive', type: 'classification' })
      .expect(201);
    const projectId = project.body.id as string;
    const label = await testApp.http
      .post(`/v1/projects/${projectId}/labels`)
      .set('Authorization', auth)
      .send({ name: CAFE_DECOMPOSED })
      .expect(201);
    const zip = zipSync({
      [`${CAFE_COMPOSED}/1.png`]: await generateImage(1),
      [`${CAFE_DECOMPOSED}/2.png`]: await generateImage(2),
    });

    const response = await testApp.http
      .post(`/v1/projects/${projectId}/images/import`)
      .set('Authorization', auth)
      .attach('archive', Buffer.from(zip), { filename: 'dataset.zip', contentType: 'application/zip' });

    expect(response.status).toBe(201);
    expect(response.body.labelsCreated).toEqual([]);
    const images = await testApp.http.get(`/v1/projects/${projectId}/images`).set('Authorization', auth).expect(200);
    expect(images.body.items.map((image: { label: { id: string } | null }) => image.label?.id)).toEqual([
      label.body.id,
      label.body.id,
    ]);
  });
});
