import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { deployedTinyModel } from './support/deployed-tiny-model.js';
import { colouredSquares, RED } from './support/generated-images.js';
import { expectReplayEqual } from './support/replay-equal.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

vi.setConfig({ testTimeout: 60_000 });

/** A low per-caller limit for this app only, so the 429 is cheap to reach. */
const LIMITS = { SHARED_PREDICT_RATE_LIMIT: '4', SHARED_PREDICT_RATE_WINDOW_SECONDS: '60' };

describe('shared models over HTTP', () => {
  let testApp: TestApp;
  let owner: ApiClient;
  let model: Awaited<ReturnType<typeof deployedTinyModel>>;
  let other: { id: string; username: string; auth: string; token: string };
  let image: Buffer;

  const as = (auth: string) => ({
    get: (path: string) => testApp.http.get(path).set('Authorization', auth),
    predict: (deploymentId: string) =>
      testApp.http
        .post(`/v1/shared-models/${deploymentId}/predict`)
        .set('Authorization', auth)
        .set('Content-Type', 'image/png')
        .send(image),
  });
  const share = (body: Record<string, unknown>, auth = owner.auth, projectId = model.project.id) =>
    testApp.http
      .put(`/v1/projects/${projectId}/deployments/${model.deployment.id}/share`)
      .set('Authorization', auth)
      .send(body);

  beforeAll(async () => {
    Object.assign(process.env, LIMITS);
    testApp = await startTestApp();
    owner = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    model = await deployedTinyModel(owner, ['apple', 'pear'], 'fruit');
    const user = await registerAndLogIn(testApp);
    const issued = await testApp.http
      .post('/v1/users/me/tokens')
      .set('Authorization', user.auth)
      .send({ name: 'scripts' })
      .expect(201);
    other = { ...user, token: `Bearer ${issued.body.token}` };
    [image] = await colouredSquares(RED, 1, 9);
  });
  afterAll(async () => {
    for (const name of Object.keys(LIMITS)) delete process.env[name];
    await testApp.destroy();
  });

  const ownDeployment = async () =>
    (await as(owner.auth).get(`/v1/projects/${model.project.id}/deployments/${model.deployment.id}`).expect(200)).body;

  it('is invisible to other users until the owner shares it; only the owner can share', async () => {
    expect((await as(other.token).get('/v1/shared-models')).body.items).toEqual([]);
    expect((await ownDeployment()).shared).toBeNull();
    expect((await as(other.token).predict(model.deployment.id)).status).toBe(404);
    const byStranger = await share({ description: 'mine now' }, other.token);
    expect(byStranger.status).toBe(404);
    const bad = await share({ description: 'bad\u0000text' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_CHARACTERS');
  });

  it('shows name, description, task, labels and metrics only; any user finds it by search and predicts with a personal token', async () => {
    const shared = await share({ name: 'Fruit sorter', description: 'Tells apples from pears.' });
    expect(shared.status).toBe(200);
    const expected = {
      id: model.deployment.id,
      name: 'Fruit sorter',
      description: 'Tells apples from pears.',
      task: 'classification',
      labels: ['apple', 'pear'],
      metrics: null,
      sharedAt: shared.body.sharedAt,
      endpoint: `/v1/shared-models/${model.deployment.id}/predict`,
    };
    expect(shared.body).toEqual(expected);
    expect((await ownDeployment()).shared).toEqual({
      name: 'Fruit sorter',
      description: 'Tells apples from pears.',
      sharedAt: shared.body.sharedAt,
    });

    const found = await as(other.token).get('/v1/shared-models?q=PEARS%20fruit');
    expect(found.body.items).toEqual([expected]);
    expect((await as(other.token).get('/v1/shared-models?q=banana')).body.items).toEqual([]);
    expect((await as(other.token).get('/v1/shared-models?task=detection')).body.items).toEqual([]);
    expect((await as(other.token).get(`/v1/shared-models/${model.deployment.id}`)).body).toEqual(expected);
    expect((await testApp.http.get('/v1/shared-models')).status).toBe(401);

    const predicted = await as(other.token).predict(model.deployment.id);
    expect(predicted.status).toBe(200);
    expect(Object.keys(predicted.body).sort()).toEqual(['deploymentId', 'predictions']);
    expect(predicted.body.predictions.map((p: { label: string }) => p.label).sort()).toEqual(['apple', 'pear']);
  });

  it('shows other users nothing else of the project', async () => {
    const projectId = model.project.id;
    const paths = [
      `/v1/projects/${projectId}`,
      `/v1/projects/${projectId}/images`,
      `/v1/projects/${projectId}/iterations`,
      `/v1/projects/${projectId}/iterations/${model.iterationId}`,
      `/v1/projects/${projectId}/iterations/${model.iterationId}/model`,
      `/v1/projects/${projectId}/deployments`,
      `/v1/projects/${projectId}/deployments/${model.deployment.id}`,
      `/v1/projects/${projectId}/predictions`,
      `/v1/projects/${projectId}/usage`,
      `/v1/projects/${projectId}/history`,
    ];
    for (const path of paths) expect([path, (await as(other.token).get(path)).status]).toEqual([path, 404]);
    const projects = await as(other.token).get('/v1/projects');
    expect(projects.body.items).toEqual([]);
    const unshareByOther = await testApp.http
      .delete(`/v1/projects/${projectId}/deployments/${model.deployment.id}/share`)
      .set('Authorization', other.token);
    expect(unshareByOther.status).toBe(404);
    // The deployment key is not revealed, and predicting through /v1/predict without it stays refused.
    const viaKeyRoute = await testApp.http
      .post(`/v1/predict/${model.deployment.id}`)
      .set('Authorization', other.token)
      .set('Content-Type', 'image/png')
      .send(image);
    expect(viaKeyRoute.status).toBe(401);
  });

  it('pages the list newest first with a cursor', async () => {
    const second = await testApp.http
      .post(`/v1/projects/${model.project.id}/deployments`)
      .set('Authorization', owner.auth)
      .send({ iterationId: model.iterationId, name: 'second' })
      .expect(201);
    const sharePath = `/v1/projects/${model.project.id}/deployments/${second.body.id}/share`;
    await testApp.http.put(sharePath).set('Authorization', owner.auth).send({ description: 'another' }).expect(200);
    const first = await as(other.token).get('/v1/shared-models?limit=1');
    expect(first.body.items.map((item: { id: string }) => item.id)).toEqual([second.body.id]);
    const next = await as(other.token).get(`/v1/shared-models?limit=1&cursor=${first.body.nextCursor}`);
    expect(next.body.items.map((item: { id: string }) => item.id)).toEqual([model.deployment.id]);
    expect(next.body.nextCursor).toBeNull();
    await testApp.http.delete(sharePath).set('Authorization', owner.auth).expect(204);
  });

  it('limits each caller with 429 and Retry-After, and the usage report names the callers', async () => {
    // One prediction was made above; the limit is 4 per window.
    const statuses: number[] = [];
    for (let call = 0; call < 4; call++) statuses.push((await as(other.token).predict(model.deployment.id)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await as(other.token).predict(model.deployment.id);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another user has their own allowance.
    const third = await registerAndLogIn(testApp);
    expect((await as(third.auth).predict(model.deployment.id)).status).toBe(200);

    await testApp.close();
    testApp = await startTestApp({ dataDir: testApp.dataDir });
    const usage = await testApp.http
      .get(`/v1/projects/${model.project.id}/deployments/${model.deployment.id}/usage`)
      .set('Authorization', owner.auth);
    // Most calls first; ties by caller id.
    const byCallsThenId = (a: { callerId: string; calls: number }, b: { callerId: string; calls: number }) =>
      b.calls - a.calls || (a.callerId < b.callerId ? -1 : 1);
    expect(usage.body.callers).toEqual(
      [
        { callerId: other.id, username: other.username, calls: 6 },
        { callerId: third.id, username: third.username, calls: 1 },
        // The refused attempt through /v1/predict without the deployment key.
        { callerId: 'deployment-key', username: null, calls: 1 },
      ].sort(byCallsThenId),
    );
    expect(usage.body.totals.errors).toEqual({ TOO_MANY_REQUESTS: 2, INVALID_API_KEY: 1 });
  });

  it('disappears for everyone when the owner unshares it', async () => {
    const unshared = await testApp.http
      .delete(`/v1/projects/${model.project.id}/deployments/${model.deployment.id}/share`)
      .set('Authorization', owner.auth);
    expect(unshared.status).toBe(204);
    expect((await ownDeployment()).shared).toBeNull();
    expect((await as(other.token).get('/v1/shared-models')).body.items).toEqual([]);
    expect((await as(other.token).get(`/v1/shared-models/${model.deployment.id}`)).status).toBe(404);
    const refused = await as(other.token).predict(model.deployment.id);
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('SHARED_MODEL_NOT_FOUND');
  });

  it('has read models equal to a rebuild from the log (replay --verify), with every new event versioned', async () => {
    await expectReplayEqual(testApp, ['deployments']);
  });
});
