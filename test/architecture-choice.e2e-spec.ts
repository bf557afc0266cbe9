import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { ApiClient } from './support/api-client.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

function picture(width: number, height: number, shade: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: shade, g: 255 - shade, b: 90 } } })
    .png()
    .toBuffer();
}

describe("what the 'auto' architecture would train", () => {
  let testApp: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  const choiceOf = async (projectId: string, auth = client.auth) =>
    client.http.get(`/v1/projects/${projectId}/architecture-choice`).set('Authorization', auth);

  it('names a small model from scratch for small images and a pretrained backbone once most are photos, saying why', async () => {
    const project = await client.createProject('classification', ['a', 'b']);
    expect((await choiceOf(project.id)).body).toMatchObject({ architecture: 'small-cnn', imageCount: 0 });

    await client.upload(project.id, [await picture(28, 28, 10), await picture(28, 28, 20)]);
    const small = await choiceOf(project.id);
    expect(small.status).toBe(200);
    expect(small.body).toEqual({
      architecture: 'small-cnn',
      reason: 'small images (median shorter side 28 px < 96): a small model from scratch',
      imageCount: 2,
    });

    await client.upload(project.id, [
      await picture(320, 240, 30),
      await picture(300, 200, 40),
      await picture(400, 300, 50),
    ]);
    const photos = await choiceOf(project.id);
    expect(photos.body).toEqual({
      architecture: 'backbone-classifier',
      reason: 'photos (median shorter side 200 px ≥ 96): a pretrained backbone',
      imageCount: 5,
    });
  });

  it('names the detection architectures for a detection project', async () => {
    const project = await client.createProject('detection', ['thing']);
    await client.upload(project.id, [await picture(640, 480, 60)]);
    expect((await choiceOf(project.id)).body).toMatchObject({ architecture: 'backbone-detector', imageCount: 1 });
  });

  it("answers 404 for another user's project", async () => {
    const project = await client.createProject('classification', ['a', 'b']);
    const other = await registerAndLogIn(testApp);
    const answer = await choiceOf(project.id, other.auth);
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('PROJECT_NOT_FOUND');
  });
});
