import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { deployedTinyModel } from './support/deployed-tiny-model.js';
import { colouredSquares, RED } from './support/generated-images.js';
import { expectReplayEqual } from './support/replay-equal.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

vi.setConfig({ testTimeout: 60_000 });

type Figures = {
  calls: number;
  errorCount: number;
  errors: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number };
};

describe('usage reports over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let first: Awaited<ReturnType<typeof deployedTinyModel>>;
  let secondDeployment: { id: string; apiKey: string };
  let image: Buffer;

  const predict = (deployment: { id: string; apiKey: string }, body: Buffer, key = deployment.apiKey) =>
    testApp.http.post(`/v1/predict/${deployment.id}`).set('Content-Type', 'image/png').set('X-Api-Key', key).send(body);
  const report = (path: string, auth = client.auth) =>
    testApp.http.get(`/v1/projects/${first.project.id}${path}`).set('Authorization', auth);

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    first = await deployedTinyModel(client, ['red', 'blue'], 'usage');
    const again = await testApp.http
      .post(`/v1/projects/${first.project.id}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId: first.iterationId, name: 'second' });
    secondDeployment = again.body;
    [image] = await colouredSquares(RED, 1, 5);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('counts calls, errors by code and latency per hour and day, written at shutdown and read after a restart', async () => {
    for (let call = 0; call < 5; call++) expect((await predict(first.deployment, image)).status).toBe(200);
    expect((await predict(first.deployment, image, 'dpk_wrong')).status).toBe(401);
    expect((await predict(first.deployment, Buffer.from('not an image'))).status).toBe(400);
    expect((await predict(secondDeployment, image)).status).toBe(200);

    // Counts are flushed every USAGE_FLUSH_SECONDS (60 s by default) and at shutdown: the restart proves they are in the log.
    await testApp.close();
    testApp = await startTestApp({ dataDir: testApp.dataDir });

    const hourly = await report(`/deployments/${first.deployment.id}/usage?granularity=hour`);
    expect(hourly.status).toBe(200);
    const totals: Figures = hourly.body.totals;
    expect(totals).toMatchObject({ calls: 7, errorCount: 2, errors: { INVALID_API_KEY: 1, INVALID_IMAGE: 1 } });
    expect(totals.latencyMs.p50).toBeGreaterThan(0);
    expect(totals.latencyMs.p50).toBeLessThanOrEqual(totals.latencyMs.p95);
    expect(totals.latencyMs.p95).toBeLessThanOrEqual(totals.latencyMs.p99);
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    expect(hourly.body.periods).toHaveLength(1);
    expect([hour.toISOString(), new Date(hour.getTime() - 3_600_000).toISOString()]).toContain(
      hourly.body.periods[0].start,
    );
    expect(hourly.body.callers).toEqual([{ callerId: 'deployment-key', username: null, calls: 7 }]);

    const daily = await report(`/deployments/${first.deployment.id}/usage?granularity=day`);
    expect(daily.body.periods).toHaveLength(1);
    expect(daily.body.periods[0].start).toMatch(/T00:00:00\.000Z$/);
    expect(daily.body.periods[0].calls).toBe(7);

    const project = await report('/usage');
    expect(project.body.totals).toMatchObject({ calls: 8, errorCount: 2 });

    const future = await report(`/usage?from=${encodeURIComponent(new Date(Date.now() + 7_200_000).toISOString())}`);
    expect(future.body.totals.calls).toBe(0);
    expect(future.body.totals.latencyMs).toEqual({ p50: null, p95: null, p99: null });
  });

  it('adds the counts of later flushes to the same hour, and the replay gives the same report', async () => {
    for (let call = 0; call < 3; call++) await predict(secondDeployment, image);
    await testApp.close();
    testApp = await startTestApp({ dataDir: testApp.dataDir });
    const second = await report(`/deployments/${secondDeployment.id}/usage?granularity=hour`);
    expect(second.body.totals.calls).toBe(4);
    expect(second.body.periods).toHaveLength(1);
  });

  it('answers 400 for a bad granularity or time, and 404 to anyone but the owner', async () => {
    const bad = await report(`/deployments/${first.deployment.id}/usage?granularity=week`);
    expect(bad.status).toBe(400);
    expect((await report('/usage?from=soon')).status).toBe(400);
    const stranger = (await registerAndLogIn(testApp)).auth;
    expect((await report('/usage', stranger)).status).toBe(404);
    expect((await report(`/deployments/${first.deployment.id}/usage`, stranger)).status).toBe(404);
    expect((await report(`/deployments/00000000-0000-4000-8000-000000000000/usage`)).status).toBe(404);
  });

  it('documents the new endpoints in the OpenAPI document with their response schemas', async () => {
    const document = (await testApp.http.get('/docs-json').expect(200)).body;
    const okSchema = (path: string, method: string) =>
      document.paths[path]?.[method]?.responses?.['200']?.content?.['application/json']?.schema?.$ref;
    expect(okSchema('/v1/projects/{projectId}/usage', 'get')).toBe('#/components/schemas/UsageReportDto');
    expect(okSchema('/v1/projects/{projectId}/deployments/{deploymentId}/usage', 'get')).toBe(
      '#/components/schemas/UsageReportDto',
    );
    expect(okSchema('/v1/projects/{projectId}/predictions', 'get')).toBe(
      '#/components/schemas/StoredPredictionPageDto',
    );
    expect(okSchema('/v1/projects/{projectId}/predictions/promote', 'post')).toBe(
      '#/components/schemas/PromotePredictionsResultDto',
    );
    expect(okSchema('/v1/projects/{projectId}/deployments/{deploymentId}/prediction-store', 'put')).toBe(
      '#/components/schemas/PredictionStoreSettingsDto',
    );
    expect(okSchema('/v1/projects/{projectId}/deployments/{deploymentId}/share', 'put')).toBe(
      '#/components/schemas/SharedModelDto',
    );
    expect(okSchema('/v1/shared-models', 'get')).toBe('#/components/schemas/SharedModelPageDto');
    expect(okSchema('/v1/shared-models/{deploymentId}/predict', 'post')).toBe(
      '#/components/schemas/SharedPredictionResultDto',
    );
    expect(Object.keys(document.paths['/v1/shared-models/{deploymentId}/predict'].post.responses)).toEqual(
      expect.arrayContaining(['400', '401', '404', '413', '415', '429']),
    );
    expect(document.components.schemas.UsageReportDto.properties.callers.items.$ref).toBe(
      '#/components/schemas/UsageCallerDto',
    );
  });

  it('has read models equal to a rebuild from the log (replay --verify), with every new event versioned', async () => {
    await expectReplayEqual(testApp, ['deployment-usage']);
  });
});
