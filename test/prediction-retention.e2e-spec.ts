import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Clock } from '@diyml/core';
import { PredictionKeeper } from '@diyml/deployments';
import { ApiClient } from './support/api-client.js';
import { deployedTinyModel } from './support/deployed-tiny-model.js';
import { colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

vi.setConfig({ testTimeout: 60_000 });

const DAY_MS = 86_400_000;

describe("a deployment's prediction store age limit", () => {
  let testApp: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await testApp.destroy();
  });

  it('still deletes stored predictions past maxAgeDays after the deployment was undeployed', async () => {
    const { project, deployment } = await deployedTinyModel(client, ['red', 'blue'], 'aged');
    await testApp.http
      .put(`/v1/projects/${project.id}/deployments/${deployment.id}/prediction-store`)
      .set('Authorization', client.auth)
      .send({ enabled: true, maxCount: null, maxAgeDays: 1 })
      .expect(200);
    const [photo] = await colouredSquares(RED, 1, 51);
    const answered = await testApp.http
      .post(`/v1/predict/${deployment.id}`)
      .set('X-Api-Key', deployment.apiKey)
      .set('Content-Type', 'image/png')
      .send(photo)
      .expect(200);
    await testApp.http
      .delete(`/v1/projects/${project.id}/deployments/${deployment.id}`)
      .set('Authorization', client.auth)
      .expect(204);
    const stored = () =>
      testApp.http.get(`/v1/projects/${project.id}/predictions`).set('Authorization', client.auth).expect(200);
    expect((await stored()).body.items.map((item: { id: string }) => item.id)).toEqual([
      answered.body.storedPredictionId,
    ]);

    // Two days on, the sweep the keeper runs every few minutes.
    const clock = testApp.app.get(Clock);
    const later = new Date(clock.now().getTime() + 2 * DAY_MS);
    vi.spyOn(clock, 'now').mockReturnValue(later);
    await testApp.app.get(PredictionKeeper).sweepAges();
    // The deletion is in the log; the list shows it once projected.
    const deadline = Date.now() + 5000;
    while ((await stored()).body.items.length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await stored()).body.items).toEqual([]);
  });
});
