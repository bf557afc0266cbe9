import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { zipSync } from 'fflate';
import { ApiClient } from '../support/api-client.js';
import { BLUE, colouredSquares, RED } from '../support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from '../support/test-app.js';
import { makeVideo } from '../support/videos.js';

vi.setConfig({ testTimeout: 120_000 });

/**
 * Image quotas (MAX_IMAGES_PER_PROJECT, MAX_IMAGES_PER_USER): without them one fresh account's 15,000 images left the
 * embedded api at 320–430 MB after a restart. Small limits here, one new user per case.
 */
describe('image quotas per project and per user', () => {
  let testApp: TestApp;
  let images: Buffer[];

  beforeAll(async () => {
    testApp = await startTestApp({ settings: { MAX_IMAGES_PER_PROJECT: '5', MAX_IMAGES_PER_USER: '8' } });
    images = [...(await colouredSquares(RED, 10, 41)), ...(await colouredSquares(BLUE, 10, 42))];
  });

  afterAll(async () => {
    await testApp?.destroy();
  });

  async function newUser(): Promise<ApiClient> {
    const { auth } = await registerAndLogIn(testApp);
    return new ApiClient(testApp, auth);
  }

  function upload(client: ApiClient, projectId: string, files: Buffer[], offset = 0) {
    let request = client.http.post(`/v1/projects/${projectId}/images`).set('Authorization', client.auth);
    files.forEach((file, index) => (request = request.attach('images', file, `image-${offset + index}.png`)));
    return request;
  }

  async function imageCount(client: ApiClient, projectId: string): Promise<number> {
    const { body } = await client.http
      .get(`/v1/projects/${projectId}/images?limit=100`)
      .set('Authorization', client.auth)
      .expect(200);
    return (body.items as unknown[]).length;
  }

  it('refuses a batch that would pass the project quota as a whole, saying how many are left; room comes back after a removal', async () => {
    const client = await newUser();
    const { id } = await client.createProject('classification', []);
    await upload(client, id, images.slice(0, 3)).expect(201);

    const refused = await upload(client, id, images.slice(3, 6), 3).expect(422);
    expect(refused.body).toMatchObject({
      code: 'IMAGE_QUOTA_EXCEEDED',
      details: { scope: 'project', limit: 5, images: 3, left: 2, adding: 3 },
    });
    expect(refused.body.message).toContain('2 more can be added');
    // Nothing of the refused batch was taken.
    expect(await imageCount(client, id)).toBe(3);

    const taken = await upload(client, id, images.slice(3, 5), 3).expect(201);
    expect(await imageCount(client, id)).toBe(5);
    expect((await upload(client, id, images.slice(5, 6), 5).expect(422)).body.details).toMatchObject({ left: 0 });

    await client.http
      .delete(`/v1/projects/${id}/images/${taken.body.items[0].id}`)
      .set('Authorization', client.auth)
      .expect(204);
    await upload(client, id, images.slice(5, 6), 5).expect(201);
  });

  it('lets only one of two uploads that fit alone but not together take its images', async () => {
    const client = await newUser();
    const { id } = await client.createProject('classification', []);
    const answers = await Promise.all([
      upload(client, id, images.slice(0, 3)),
      upload(client, id, images.slice(3, 6), 3),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 422]);
    expect(await imageCount(client, id)).toBe(3);
  });

  it('lets many concurrent uploads of one user store exactly the quota and refuses the rest with what is left', async () => {
    const client = await newUser();
    const first = await client.createProject('classification', []);
    const second = await client.createProject('classification', []);
    // 16 single-image uploads at once, 8 to each project: the user's quota (8) holds, with each project's (5).
    const answers = await Promise.all(
      images.slice(0, 16).map((image, index) => upload(client, index % 2 === 0 ? first.id : second.id, [image], index)),
    );
    const refused = answers.filter((answer) => answer.status === 422);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(8);
    expect(refused).toHaveLength(8);
    for (const answer of refused) {
      expect(answer.body).toMatchObject({ code: 'IMAGE_QUOTA_EXCEEDED', details: { left: 0, adding: 1 } });
    }
    expect((await imageCount(client, first.id)) + (await imageCount(client, second.id))).toBe(8);
  });

  it('counts the user’s images across projects, and holds dataset imports, URL uploads and videos to both quotas', async () => {
    const client = await newUser();
    const first = await client.createProject('classification', []);
    const second = await client.createProject('classification', []);
    await upload(client, first.id, images.slice(0, 5)).expect(201);
    const archive = zipSync({
      'red/a.png': images[10],
      'red/b.png': images[11],
      'blue/c.png': images[12],
    });
    const importZip = (zip: Uint8Array) =>
      client.http
        .post(`/v1/projects/${second.id}/images/import`)
        .set('Authorization', client.auth)
        .attach('archive', Buffer.from(zip), { filename: 'dataset.zip', contentType: 'application/zip' });
    await importZip(archive).expect(201);
    // 5 + 3 = 8, the user's quota: the second project has room (3 of 5), the user none.
    const refused = await importZip(zipSync({ 'green/d.png': images[13] })).expect(422);
    expect(refused.body).toMatchObject({
      code: 'IMAGE_QUOTA_EXCEEDED',
      details: { scope: 'user', limit: 8, images: 8, left: 0, adding: 1 },
    });
    // A refused import creates no label.
    const project = await client.http.get(`/v1/projects/${second.id}`).set('Authorization', client.auth).expect(200);
    expect((project.body.labels as { name: string }[]).map((label) => label.name).sort()).toEqual(['blue', 'red']);

    // Refused before any URL is fetched (this host does not exist).
    const fromUrls = await client.http
      .post(`/v1/projects/${second.id}/images/urls`)
      .set('Authorization', client.auth)
      .send({ urls: ['https://images.invalid/1.png'] })
      .expect(422);
    expect(fromUrls.body.code).toBe('IMAGE_QUOTA_EXCEEDED');

    // Ten frames (ten seconds at one frame a second) do not fit; nothing is kept.
    const video = await makeVideo('testsrc', 10, 'mp4');
    const videoAnswer = await client.http
      .post(`/v1/projects/${second.id}/videos`)
      .set('Authorization', client.auth)
      .attach('video', video, 'clip.mp4')
      .expect(422);
    expect(videoAnswer.body).toMatchObject({ code: 'IMAGE_QUOTA_EXCEEDED', details: { adding: 10 } });
    expect(await imageCount(client, second.id)).toBe(3);
  });

  it('counts the frames still to come from a video being extracted', async () => {
    const client = await newUser();
    const { id } = await client.createProject('classification', []);
    const video = await makeVideo('testsrc', 4, 'mp4');
    const accepted = await client.http
      .post(`/v1/projects/${id}/videos`)
      .set('Authorization', client.auth)
      .attach('video', video, 'clip.mp4')
      .expect(202);
    const frames = accepted.body.progress.frameCount as number;
    expect(frames).toBe(4);
    // Whether its frames are still to come or already images, they take 4 of the 5.
    const refused = await upload(client, id, images.slice(0, 2)).expect(422);
    expect(refused.body.details).toMatchObject({ scope: 'project', images: 4, left: 1 });
  });

  it('refuses a project import whose images would pass the user’s quota, before anything is stored', async () => {
    const client = await newUser();
    const { id } = await client.createProject('classification', []);
    await upload(client, id, images.slice(0, 5)).expect(201);
    const archive = await client.http
      .post(`/v1/projects/${id}/export`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse((response, callback) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => callback(null, Buffer.concat(chunks)));
      })
      .expect(200);
    const refused = await client.http
      .post('/v1/projects/import')
      .set('Authorization', client.auth)
      .attach('archive', archive.body as Buffer, 'project.diyml.zip')
      .expect(422);
    expect(refused.body).toMatchObject({
      code: 'IMAGE_QUOTA_EXCEEDED',
      details: { scope: 'user', images: 5, left: 3, adding: 5 },
    });
    const projects = await client.http.get('/v1/projects').set('Authorization', client.auth).expect(200);
    expect((projects.body.items as unknown[]).length).toBe(1);
  });

  it('answers Custom Vision’s create-images with its quota code, taking none of the batch', async () => {
    const { auth } = await registerAndLogIn(testApp);
    const issued = await testApp.http
      .post('/v1/users/me/tokens')
      .set('Authorization', auth)
      .send({ name: 'custom vision' })
      .expect(201);
    const client = new ApiClient(testApp, auth);
    const { id } = await client.createProject('classification', []);
    await upload(client, id, images.slice(0, 4)).expect(201);
    const refused = await testApp.http
      .post(`/customvision/v3.3/training/projects/${id}/images/files`)
      .set('Training-Key', issued.body.token)
      .send({
        images: images.slice(4, 6).map((png, index) => ({ name: `cv-${index}.png`, contents: png.toString('base64') })),
      })
      .expect(400);
    expect(refused.body).toEqual({ code: 'BadRequestExceededQuota', message: expect.stringContaining('1 more') });
    expect(await imageCount(client, id)).toBe(4);
  });
});
