import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_TIMEOUT_MS, registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

// Malformed Custom Vision requests: refused before anything happens, with Azure's 400 and {code, message}
// naming what to fix, as Azure's Training API v3.3 defines each field.

const TRAINING = '/customvision/v3.3/training';
const ids = (count: number) =>
  Array.from({ length: count }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);

describe('Custom Vision input validation', () => {
  let testApp: TestApp;
  let key: { 'Training-Key': string };
  let projectId: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    const user = await registerAndLogIn(testApp);
    const issued = await testApp.http
      .post('/v1/users/me/tokens')
      .set('Authorization', user.auth)
      .send({ name: 'custom vision' })
      .expect(201);
    key = { 'Training-Key': issued.body.token };
    projectId = (await testApp.http.post(`${TRAINING}/projects?name=Input`).set(key).expect(200)).body.id;
  }, BOOT_TIMEOUT_MS);
  afterAll(() => testApp.destroy());

  async function refused(request: ReturnType<TestApp['http']['get']>) {
    const answer = await request.set(key);
    expect(answer.status).toBe(400);
    expect(Object.keys(answer.body).sort()).toEqual(['code', 'message']);
    return answer.body as { code: string; message: string };
  }

  it('refuses a query parameter out of its range or of the wrong type, saying which', async () => {
    const take = await refused(testApp.http.get(`${TRAINING}/projects/${projectId}/images?take=300`));
    expect(take).toEqual({ code: 'BadRequest', message: expect.stringContaining('take must not be greater than 256') });
    const order = await refused(testApp.http.get(`${TRAINING}/projects/${projectId}/images/tagged?orderBy=Latest`));
    expect(order.message).toContain('orderBy must be Newest or Oldest');
    const threshold = await refused(
      testApp.http.get(`${TRAINING}/projects/${projectId}/iterations/${ids(1)[0]}/performance?threshold=high`),
    );
    expect(threshold.message).toContain('threshold must be a number');
  });

  it('refuses a query parameter Azure does not define, naming it', async () => {
    const unknown = await refused(testApp.http.get(`${TRAINING}/projects/${projectId}/tags?includeAll=true`));
    expect(unknown).toEqual({
      code: 'BadRequest',
      message: expect.stringContaining('includeAll is not a field of this request, which takes: '),
    });
  });

  it('answers a bad id with BadRequestInvalidIds and a missing required parameter with BadRequestRequiredParamIsNull', async () => {
    const notIds = await refused(testApp.http.get(`${TRAINING}/projects/${projectId}/images/id?imageIds=cat,dog`));
    expect(notIds).toEqual({
      code: 'BadRequestInvalidIds',
      message: expect.stringContaining('imageIds must be UUIDs'),
    });
    const noName = await refused(testApp.http.post(`${TRAINING}/projects/${projectId}/tags?name=%20`));
    expect(noName).toEqual({
      code: 'BadRequestRequiredParamIsNull',
      message: expect.stringContaining('name is required'),
    });
    const noRegions = await refused(testApp.http.delete(`${TRAINING}/projects/${projectId}/images/regions`));
    expect(noRegions.code).toBe('BadRequestRequiredParamIsNull');
  });

  it('bounds lists as Azure does: 64 images a batch, 20 tags, 64 ids to untag', async () => {
    const image = { contents: Buffer.from('not read').toString('base64') };
    const batch = await refused(
      testApp.http.post(`${TRAINING}/projects/${projectId}/images/files`).send({ images: Array(65).fill(image) }),
    );
    expect(batch).toEqual({
      code: 'BadRequestImageBatch',
      message: expect.stringContaining('images takes at most 64'),
    });
    const tags = await refused(
      testApp.http.post(`${TRAINING}/projects/${projectId}/images?tagIds=${ids(21).join(',')}`),
    );
    expect(tags).toEqual({
      code: 'BadRequestExceededBatchSize',
      message: expect.stringContaining('tagIds names at most 20'),
    });
    const untag = await refused(
      testApp.http.delete(
        `${TRAINING}/projects/${projectId}/images/tags?imageIds=${ids(65).join(',')}&tagIds=${ids(1)[0]}`,
      ),
    );
    expect(untag.code).toBe('BadRequestExceededBatchSize');
  });

  it('checks every entry of a JSON batch, naming the entry and field', async () => {
    const noUrl = await refused(
      testApp.http
        .post(`${TRAINING}/projects/${projectId}/images/urls`)
        .send({ images: [{ url: 'http://a/1.png' }, {}] }),
    );
    expect(noUrl).toEqual({
      code: 'BadRequestRequiredParamIsNull',
      message: expect.stringContaining('url is required'),
    });
    const region = { imageId: ids(1)[0], tagId: ids(2)[1], left: 'x', top: 0, width: 0.5, height: 0.5 };
    const badRegion = await refused(
      testApp.http.post(`${TRAINING}/projects/${projectId}/images/regions`).send({ regions: [region] }),
    );
    expect(badRegion).toEqual({
      code: 'BadRequestImageRegions',
      message: expect.stringContaining('left must be a number'),
    });
    const extra = await refused(
      testApp.http
        .post(`${TRAINING}/projects/${projectId}/images/tags`)
        .send({ tags: [{ imageId: ids(1)[0], tagId: ids(1)[0], weight: 2 }] }),
    );
    expect(extra.message).toContain('tags.0.weight is not a field of tags.0, which takes: imageId, tagId');
  });

  it('takes the whole model the C# SDK sends back on an update, read-only fields included', async () => {
    const project = (await testApp.http.get(`${TRAINING}/projects/${projectId}`).set(key).expect(200)).body;
    const updated = await testApp.http
      .patch(`${TRAINING}/projects/${projectId}`)
      .set(key)
      .send({ ...project, name: 'Input, renamed' })
      .expect(200);
    expect(updated.body).toMatchObject({ id: projectId, name: 'Input, renamed', settings: project.settings });
  });
});
