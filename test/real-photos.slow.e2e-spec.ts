import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from './support/api-client.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/**
 * The one test that loads the real MobileNetV2 (from nsfwjs): Custom Vision's classification quickstart, tried as a
 * new user would, with default settings. One to two minutes on two cores (130 s at a load average of 11 with the
 * tfjs forward pass), under the 4-minute timeout. It runs in `npm test` too: the one check in CI that the shipped
 * backbone works on real photos (bench/real-photos.ts measures more of them).
 */
const SAMPLES = '/work/shared/datasets/custom-vision-samples/classification';
const LABELS = ['Hemlock', 'Japanese Cherry'];
const TIMEOUT_MS = 240_000;

describe('real photos: the Custom Vision classification quickstart with default settings', () => {
  let testApp: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it(
    'trains Hemlock / Japanese Cherry on the pretrained backbone and classifies the hemlock test photo as Hemlock ≥ 95%',
    async () => {
      const project = await client.createProject('classification', LABELS, 'Trees');
      for (const label of LABELS) {
        const directory = join(SAMPLES, label);
        await client.upload(
          project.id,
          readdirSync(directory).map((file) => readFileSync(join(directory, file))),
          { label },
          label,
        );
      }
      const queued = await client.train(project.id);
      const iteration = await client.waitForIteration(project.id, queued.id, TIMEOUT_MS);
      expect(iteration).toMatchObject({
        status: 'completed',
        architecture: 'backbone-classifier',
        trainingConfig: { backbone: null },
      });

      const deployment = await client.http
        .post(`/v1/projects/${project.id}/deployments`)
        .set('Authorization', client.auth)
        .send({ iterationId: queued.id })
        .expect(201);
      const response = await testApp.http
        .post(`/v1/predict/${deployment.body.id}`)
        .set('Content-Type', 'image/jpeg')
        .set('X-Api-Key', deployment.body.apiKey)
        .send(readFileSync(join(SAMPLES, 'test', 'hemlock_test.jpg')))
        .expect(200);
      expect(response.body.predictions[0].label).toBe('Hemlock');
      expect(response.body.predictions[0].probability).toBeGreaterThanOrEqual(0.95);
    },
    TIMEOUT_MS,
  );
});
