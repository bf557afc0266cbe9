import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { deployedTinyModel } from './support/deployed-tiny-model.js';
import { colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const LIMITS = { PREDICT_RATE_LIMIT: '3', PREDICT_RATE_WINDOW_SECONDS: '60' };

describe('the prediction rate limit, one count per key over every prediction route', () => {
  let testApp: TestApp;
  let model: Awaited<ReturnType<typeof deployedTinyModel>>;
  let photo: Buffer;

  beforeAll(async () => {
    // The deployment settings are read from the environment, as in the api.
    Object.assign(process.env, LIMITS);
    testApp = await startTestApp();
    const user = await registerAndLogIn(testApp);
    model = await deployedTinyModel(new ApiClient(testApp, user.auth), ['red', 'blue'], 'tiny');
    [photo] = await colouredSquares(RED, 1, 7);
  });
  afterAll(async () => {
    await testApp.destroy();
    for (const name of Object.keys(LIMITS)) delete process.env[name];
  });

  const native = () =>
    testApp.http
      .post(`/v1/predict/${model.deployment.id}`)
      .set('X-Api-Key', model.deployment.apiKey)
      .attach('image', photo, 'red.png');
  const customVision = () =>
    testApp.http
      .post(`/customvision/v3.0/Prediction/${model.project.id}/classify/iterations/tiny/image/nostore`)
      .set('Prediction-Key', model.deployment.apiKey)
      .set('Content-Type', 'application/octet-stream')
      .send(photo);

  it('counts Custom Vision predictions with the native ones, and answers each route its own 429', async () => {
    expect((await native()).status).toBe(200);
    expect((await customVision()).status).toBe(200);
    expect((await native()).status).toBe(200);

    const refusedByAzure = await customVision();
    expect(refusedByAzure.status).toBe(429);
    expect(refusedByAzure.body).toEqual({ code: 'TooManyRequests', message: expect.stringContaining('retry in') });
    expect(Number(refusedByAzure.headers['retry-after'])).toBeGreaterThan(0);

    const refused = await native();
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
  });
});
