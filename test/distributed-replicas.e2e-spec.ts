import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { postgresTestServer } from '@diyml/core/testing/postgres-test-database.js';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { ModelCache } from '@diyml/deployments';
import { ProjectionRunner } from '@diyml/read-store';
import { ApiClient } from './support/api-client.js';
import { deployedTinyModel } from './support/deployed-tiny-model.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { BOOT_TIMEOUT_MS, registerAndLogIn, startTestApp, startTestWorker, type TestApp } from './support/test-app.js';

const server = postgresTestServer();
const redis = await redisIsReachable();

/**
 * Two apis on one PostgreSQL, as behind a load balancer: every request may land on either. Each read below is sent
 * at once after the write it follows, to the other api, with no waiting in between: the write answered only once
 * the shared read models held it (read-your-writes), whichever api took it.
 */
(server ? describe : describe.skip)('two apis sharing PostgreSQL, read through the other api at once', () => {
  const database = postgresDatabaseForThisFile(server ?? '');
  let projecting: TestApp;
  let following: TestApp;
  let auth: string;
  let projectingStopped = false;

  beforeAll(async () => {
    const settings = {
      POSTGRES_URL: database.url,
      JWT_SECRET: 'a-replicas-e2e-secret-of-more-than-32-characters',
      // A write after the projecting api stopped waits for the takeover (a lease check every 3.3 s), also on a busy
      // machine.
      READ_YOUR_WRITES_TIMEOUT_MS: '20000',
    };
    const apps = [await startTestApp({ settings }), await startTestApp({ settings })];
    projecting = apps.find((testApp) => testApp.app.get(ProjectionRunner).projecting)!;
    following = apps.find((testApp) => testApp !== projecting)!;
    expect(following.app.get(ProjectionRunner).projecting).toBe(false);
    auth = (await registerAndLogIn(following)).auth;
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    await following?.destroy();
    if (!projectingStopped) await projecting?.destroy();
  });

  it('logs in on one api a user registered on the other', async () => {
    for (const [writer, reader] of [
      [following, projecting],
      [projecting, following],
    ]) {
      const credentials = {
        username: `crossing-${reader === projecting ? 'a' : 'b'}`,
        password: 'correct horse battery',
      };
      await writer.http.post('/v1/auth/register').send(credentials).expect(201);
      await reader.http.post('/v1/auth/login').send(credentials).expect(200);
    }
    // One username registered through both apis at once: one account, the other request told the name is taken.
    const credentials = { username: 'twice', password: 'correct horse battery' };
    const registered = await Promise.all(
      [following, projecting].map((api) => api.http.post('/v1/auth/register').send(credentials)),
    );
    expect(registered.map((answer) => [answer.status, answer.body.code]).sort()).toEqual([
      [201, undefined],
      [409, 'USERNAME_TAKEN'],
    ]);
  });

  it('serves a project, its labels and uploads written through the other api, with their counts', async () => {
    const onFollower = new ApiClient(following, auth);
    const onProjecting = new ApiClient(projecting, auth);
    const project = await onFollower.createProject('classification', ['red', 'blue']);
    const labels = await onProjecting.http
      .get(`/v1/projects/${project.id}/labels`)
      .set('Authorization', auth)
      .expect(200);
    expect(labels.body.items.map((label: { name: string }) => label.name).sort()).toEqual(['blue', 'red']);

    // Uploads to both apis at once: each api's counts are the shared ones, neither lost nor counted twice.
    const [reds, blues] = await Promise.all([colouredSquares(RED, 3, 71), colouredSquares(BLUE, 3, 72)]);
    await Promise.all([
      ...reds.map((image) => onFollower.upload(project.id, [image], { label: 'red' }, 'red')),
      ...blues.map((image) => onProjecting.upload(project.id, [image], { label: 'blue' }, 'blue')),
    ]);
    for (const reader of [following, projecting]) {
      const counted = await reader.http.get(`/v1/projects/${project.id}/labels`).set('Authorization', auth).expect(200);
      expect(
        Object.fromEntries(
          counted.body.items.map((label: { name: string; imageCount: number }) => [label.name, label.imageCount]),
        ),
      ).toEqual({ red: 3, blue: 3 });
      const images = await reader.http
        .get(`/v1/projects/${project.id}/images?limit=50`)
        .set('Authorization', auth)
        .expect(200);
      expect(images.body.items).toHaveLength(6);
    }

    // One picture uploaded through both apis at once: one image, and the other upload names it as the duplicate.
    const [twice] = await colouredSquares(RED, 1, 70);
    const answers = await Promise.all([onFollower, onProjecting].map((client) => client.upload(project.id, [twice])));
    expect(
      answers
        .flat()
        .map((item) => item.status)
        .sort(),
    ).toEqual(['created', 'duplicate']);
    expect(answers[0][0].id).toBe(answers[1][0].id);
  }, 60_000);

  it('answers the same If-Match sent to each api at once with one success and one conflict, never a 500', async () => {
    const client = new ApiClient(following, auth);
    const project = await client.createProject('classification', ['red', 'blue'], 'conflicts');
    const [uploaded] = await client.upload(project.id, await colouredSquares(RED, 1, 73));
    const path = `/v1/projects/${project.id}/images/${uploaded.id}`;
    const read = await projecting.http.get(path).set('Authorization', auth).expect(200);
    const answers = await Promise.all(
      [following, projecting].map((api, index) =>
        api.http
          .put(`${path}/label`)
          .set('Authorization', auth)
          .set('If-Match', read.headers.etag)
          .send({ label: index === 0 ? 'blue' : 'red' }),
      ),
    );
    // The loser hears 409 WRONG_EXPECTED_REVISION when it lost the race to append (its If-Match held when it
    // read), 412 REVISION_MISMATCH when it read after the winner's append. Both say to read again; neither is a 500.
    const [, lost] = [...answers].sort((a, b) => a.status - b.status);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect([
      [409, 'WRONG_EXPECTED_REVISION'],
      [412, 'REVISION_MISMATCH'],
    ]).toContainEqual([lost.status, lost.body.code]);
    const late = await projecting.http
      .put(`${path}/label`)
      .set('Authorization', auth)
      .set('If-Match', read.headers.etag)
      .send({ label: 'red' });
    expect(late.status).toBe(412);
    expect(late.body.code).toBe('REVISION_MISMATCH');

    // Two labels of one name added through both apis at once: one is added, the other told the name is taken.
    const added = await Promise.all(
      [following, projecting].map((api) =>
        api.http.post(`/v1/projects/${project.id}/labels`).set('Authorization', auth).send({ name: 'green' }),
      ),
    );
    expect(added.map((answer) => answer.status).sort()).toEqual([201, 409]);
  }, 60_000);

  it('takes a deployment key rotated on one api at once on the other, refuses the old one there, and an undeployed one', async () => {
    const { project, deployment } = await deployedTinyModel(new ApiClient(following, auth), ['red', 'blue'], 'rotated');
    const [image] = await colouredSquares(RED, 1, 74);
    const predict = (api: TestApp, key: string) =>
      api.http.post(`/v1/predict/${deployment.id}`).set('X-Api-Key', key).set('Content-Type', 'image/png').send(image);
    expect((await predict(projecting, deployment.apiKey)).status).toBe(200);
    const rotated = await following.http
      .post(`/v1/projects/${project.id}/deployments/${deployment.id}/rotate-key`)
      .set('Authorization', auth)
      .expect(200);
    expect((await predict(projecting, deployment.apiKey)).status).toBe(401);
    expect((await predict(projecting, rotated.body.apiKey)).status).toBe(200);
    await projecting.http
      .delete(`/v1/projects/${project.id}/deployments/${deployment.id}`)
      .set('Authorization', auth)
      .expect(204);
    const undeployed = await predict(following, rotated.body.apiKey);
    expect(undeployed.status).toBe(404);
    expect(undeployed.body.code).toBe('DEPLOYMENT_NOT_FOUND');
  }, 60_000);
  it('loads a deployed model on each api ahead of its first call, and unloads it from each once undeployed', async () => {
    const client = new ApiClient(following, auth);
    const { project, iterationId, deployment } = await deployedTinyModel(client, ['red', 'blue'], 'cached');
    const { sha256 } = (await client.iteration(project.id, iterationId)).model as { sha256: string };
    const loadedOn = (api: TestApp) => api.app.get(ModelCache).has(sha256);
    await vi.waitFor(() => expect([projecting, following].map(loadedOn)).toEqual([true, true]), { timeout: 10_000 });

    await following.http
      .delete(`/v1/projects/${project.id}/deployments/${deployment.id}`)
      .set('Authorization', auth)
      .expect(204);
    await vi.waitFor(() => expect([projecting, following].map(loadedOn)).toEqual([false, false]), { timeout: 10_000 });
  }, 60_000);

  it('goes on from the checkpoints on the other api when the projecting one stops, counting each image once', async () => {
    const client = new ApiClient(following, auth);
    const project = await client.createProject('classification', ['red'], 'taken over');
    await client.upload(project.id, await colouredSquares(RED, 2, 75), { label: 'red' });
    await projecting.destroy();
    projectingStopped = true;
    // The write waits until the remaining api took the projections lease over and applied it.
    await client.upload(project.id, await colouredSquares(RED, 2, 76), { label: 'red' });
    expect(following.app.get(ProjectionRunner).projecting).toBe(true);
    const labels = await following.http.get(`/v1/projects/${project.id}/labels`).set('Authorization', auth).expect(200);
    expect(labels.body.items).toEqual([expect.objectContaining({ name: 'red', imageCount: 4 })]);
  }, 60_000);
});

const LIMITS = { PREDICT_RATE_LIMIT: '3', PREDICT_RATE_WINDOW_SECONDS: '60' };

(server && redis ? describe : describe.skip)(
  `two apis sharing PostgreSQL and Redis, with a worker${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    const database = postgresDatabaseForThisFile(server ?? '');
    const apis: TestApp[] = [];
    let worker: { close(): Promise<void> } | undefined;

    beforeAll(async () => {
      // The deployment settings are read from the environment, as in the api.
      Object.assign(process.env, LIMITS);
      const settings = {
        POSTGRES_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: `diyml-test-${randomUUID()}`,
        JWT_SECRET: 'a-replicas-e2e-secret-of-more-than-32-characters',
      };
      apis.push(await startTestApp({ settings }), await startTestApp({ settings }));
      worker = await startTestWorker(apis[0].settings);
    }, BOOT_TIMEOUT_MS);
    afterAll(async () => {
      await worker?.close();
      for (const api of apis) await api.destroy();
      for (const name of Object.keys(LIMITS)) delete process.env[name];
    });

    it('refuses on one api the prediction past the limit that the key reached through both', async () => {
      const [first, second] = apis;
      const { auth } = await registerAndLogIn(first);
      const { deployment } = await deployedTinyModel(new ApiClient(second, auth), ['red', 'blue'], 'limited');
      const [image] = await colouredSquares(RED, 1, 77);
      const predict = (api: TestApp) =>
        api.http
          .post(`/v1/predict/${deployment.id}`)
          .set('X-Api-Key', deployment.apiKey)
          .set('Content-Type', 'image/png')
          .send(image);
      for (const api of [first, second, first]) expect((await predict(api)).status).toBe(200);
      const refused = await predict(second);
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('TOO_MANY_REQUESTS');
    }, 60_000);
    it('trains once what was queued through one api, its progress streamed by the other to the end', async () => {
      const [first, second] = apis;
      const { auth } = await registerAndLogIn(second);
      const onFirst = new ApiClient(first, auth);
      const project = await onFirst.createProject('classification', ['red', 'blue'], 'trained');
      await onFirst.upload(project.id, await colouredSquares(RED, 8, 78), { label: 'red' }, 'red');
      await onFirst.upload(project.id, await colouredSquares(BLUE, 8, 79), { label: 'blue' }, 'blue');
      const queued = await onFirst.train(project.id, {
        imageSize: 16,
        epochs: 3,
        batchSize: 8,
        learningRate: 0.01,
        seed: 1,
      });
      const onSecond = new ApiClient(second, auth);
      const events = await onSecond.iterationEvents(project.id, queued.id);
      expect(events[events.length - 1].data.status).toBe('completed');
      for (const client of [onFirst, onSecond]) {
        const iterations = await client.http.get(`/v1/projects/${project.id}/iterations`).set('Authorization', auth);
        expect(iterations.body.items.map((item: { id: string; status: string }) => [item.id, item.status])).toEqual([
          [queued.id, 'completed'],
        ]);
      }
      const started = await second.http
        .get(`/v1/projects/${project.id}/history?type=IterationStarted&limit=100`)
        .set('Authorization', auth)
        .expect(200);
      expect(started.body.items).toHaveLength(1);
    }, 120_000);
  },
);
