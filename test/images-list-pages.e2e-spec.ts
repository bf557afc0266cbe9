import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/** The images list is served from kept pages between changes: every change shows in the next list at once. */
describe('images list pages', () => {
  let testApp: TestApp;
  let auth: string;
  let projectId: string;
  const labels: Record<string, string> = {};

  beforeAll(async () => {
    testApp = await startTestApp();
    ({ auth } = await registerAndLogIn(testApp));
    const project = await testApp.http
      .post('/v1/projects')
      .set('Authorization', auth)
      .send({ name: 'list pages', type: 'classification' })
      .expect(201);
    projectId = project.body.id;
    for (const name of ['cat', 'dog']) {
      const label = await testApp.http
        .post(`/v1/projects/${projectId}/labels`)
        .set('Authorization', auth)
        .send({ name })
        .expect(201);
      labels[name] = label.body.id;
    }
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  async function upload(seeds: number[], label: string): Promise<string[]> {
    let request = testApp.http
      .post(`/v1/projects/${projectId}/images`)
      .set('Authorization', auth)
      .field('label', label);
    for (const seed of seeds) {
      request = request.attach('images', await generateImage(seed), {
        filename: `${seed}.png`,
        contentType: 'image/png',
      });
    }
    const response = await request.expect(201);
    return (response.body.items as { id: string }[]).map((item) => item.id);
  }

  interface Listed {
    items: { id: string; label: { id: string; name: string } | null }[];
    nextCursor: string | null;
  }
  const list = (query = '') =>
    testApp.http.get(`/v1/projects/${projectId}/images${query}`).set('Authorization', auth).expect(200);

  it('shows an upload, a relabel, a label rename and a delete in the very next list, with the same JSON as before', async () => {
    const first = await upload([1, 2, 3], 'cat');
    const before = await list();
    expect(before.headers['content-type']).toBe('application/json; charset=utf-8');
    expect((before.body as Listed).items.map((item) => item.id)).toEqual(first);
    expect((await list()).text).toBe(before.text);

    const [added] = await upload([4], 'dog');
    const afterUpload = (await list()).body as Listed;
    expect(afterUpload.items.map((item) => item.id)).toEqual([...first, added]);
    expect((await list('?label=dog')).body.items.map((item: { id: string }) => item.id)).toEqual([added]);

    await testApp.http
      .put(`/v1/projects/${projectId}/images/${first[0]}/label`)
      .set('Authorization', auth)
      .send({ label: 'dog' })
      .expect(200);
    expect((await list('?label=dog')).body.items.map((item: { id: string }) => item.id)).toEqual([first[0], added]);
    expect((await list()).body.items[0].label).toEqual({ id: labels.dog, name: 'dog' });

    await testApp.http
      .patch(`/v1/projects/${projectId}/labels/${labels.dog}`)
      .set('Authorization', auth)
      .send({ name: 'puppy' })
      .expect(200);
    expect((await list()).body.items[0].label).toEqual({ id: labels.dog, name: 'puppy' });

    await testApp.http.delete(`/v1/projects/${projectId}/images/${first[1]}`).set('Authorization', auth).expect(204);
    expect((await list()).body.items.map((item: { id: string }) => item.id)).toEqual([first[0], first[2], added]);
  });

  it('answers 304 without a body while the list is unchanged, and 200 with a new ETag once it changed', async () => {
    const first = await list('?limit=2&label=cat');
    const etag = first.headers.etag;
    expect(etag).toMatch(/^W\/".+"$/);
    const unchanged = await testApp.http
      .get(`/v1/projects/${projectId}/images?limit=2&label=cat`)
      .set('Authorization', auth)
      .set('If-None-Match', etag)
      .expect(304);
    expect(unchanged.text ?? '').toBe('');

    await upload([5], 'puppy');
    // The cat images and their total are the same, so their page too, even though the project changed.
    await testApp.http
      .get(`/v1/projects/${projectId}/images?limit=2&label=cat`)
      .set('Authorization', auth)
      .set('If-None-Match', etag)
      .expect(304);
    const changed = await testApp.http
      .get(`/v1/projects/${projectId}/images`)
      .set('Authorization', auth)
      .set('If-None-Match', etag)
      .expect(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.body.items).toHaveLength(4);
  });

  it('still answers 404 to another user and 400 to a bad query while a page is kept', async () => {
    await list();
    const other = await registerAndLogIn(testApp);
    await testApp.http.get(`/v1/projects/${projectId}/images`).set('Authorization', other.auth).expect(404);
    const bad = await testApp.http
      .get(`/v1/projects/${projectId}/images?split=nope`)
      .set('Authorization', auth)
      .expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    const unknownLabel = await testApp.http
      .get(`/v1/projects/${projectId}/images?label=bird`)
      .set('Authorization', auth);
    expect(unknownLabel.status).toBeGreaterThanOrEqual(400);
  });
});
