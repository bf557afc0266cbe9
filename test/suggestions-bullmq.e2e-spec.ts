import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, startTestWorker, type TestApp } from './support/test-app.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';

const redis = await redisIsReachable();

(redis ? describe : describe.skip)(
  `suggestions and test runs with BullMQ on Redis${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    let testApp: TestApp;
    let worker: { close(): Promise<void> } | undefined;
    let client: ApiClient;
    let projectId: string;
    let iterationId: string;
    let images: string[];

    const iteration = () => `/v1/projects/${projectId}/iterations/${iterationId}`;
    const until = async <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
      const deadline = Date.now() + 150_000;
      for (;;) {
        const value = await read();
        if (done(value)) return value;
        if (Date.now() > deadline) throw new Error('still not finished after 150 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const requestTestRun = async () => {
      const [red] = await colouredSquares(RED, 1, 31);
      const response = await client.http
        .post(`${iteration()}/test-runs`)
        .set('Authorization', client.auth)
        .attach('images', red, 'r.png')
        .field('labels', '{"r.png": "red"}');
      expect(response.status).toBe(202);
      return response.body.id as string;
    };
    const testRun = async (id: string) =>
      (await client.http.get(`${iteration()}/test-runs/${id}`).set('Authorization', client.auth).expect(200)).body;

    beforeAll(async () => {
      testApp = await startTestApp({
        settings: { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: `diyml-test-${randomUUID()}` },
      });
      client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
      projectId = (await client.createProject('classification', ['red', 'blue'])).id;
      const uploaded = await client.upload(
        projectId,
        [...(await colouredSquares(RED, 2, 21)), ...(await colouredSquares(BLUE, 2, 22))],
        {},
        'square',
      );
      images = uploaded.map((item) => item.id!);
      const imported = await client.http
        .post(`/v1/projects/${projectId}/models`)
        .set('Authorization', client.auth)
        .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
        .expect(201);
      iterationId = imported.body.id;
    }, 240_000);
    afterAll(async () => {
      await worker?.close();
      await testApp.destroy();
    });

    it('records nothing for a test run cancelled, or an image removed, while its job waits on Redis', async () => {
      const cancelledId = await requestTestRun();
      const cancelled = await client.http
        .post(`${iteration()}/test-runs/${cancelledId}/cancel`)
        .set('Authorization', client.auth)
        .expect(200);
      expect(cancelled.body.status).toBe('cancelled');
      const suggestionRun = (
        await client.http.post(`${iteration()}/suggestions`).set('Authorization', client.auth).send({}).expect(202)
      ).body;
      expect(suggestionRun.imageCount).toBe(4);
      const [removed] = images;
      await client.http
        .delete(`/v1/projects/${projectId}/images/${removed}`)
        .set('Authorization', client.auth)
        .expect(204);

      worker = await startTestWorker(testApp.settings);
      const laterId = await requestTestRun();
      expect(
        (
          await until(
            () => testRun(laterId),
            (run) => run.status !== 'requested',
          )
        ).status,
      ).toBe('completed');
      expect(await testRun(cancelledId)).toMatchObject({ status: 'cancelled', metrics: null });
      const history = await client.http
        .get(`/v1/projects/${projectId}/history?type=TestRunCompleted,TestRunCancelled`)
        .set('Authorization', client.auth)
        .expect(200);
      expect(
        history.body.items.map((item: { type: string; data: { testRunId: string } }) => [
          item.type,
          item.data.testRunId,
        ]),
      ).toEqual([
        ['TestRunCancelled', cancelledId],
        ['TestRunCompleted', laterId],
      ]);

      const run = await until(
        async () =>
          (
            await client.http
              .get(`${iteration()}/suggestions/runs/${suggestionRun.id}`)
              .set('Authorization', client.auth)
              .expect(200)
          ).body,
        (current) => current.status !== 'requested',
      );
      expect(run).toMatchObject({ status: 'completed', imageCount: 4, suggestedCount: 3 });
      const listed = await client.http.get(`${iteration()}/suggestions`).set('Authorization', client.auth).expect(200);
      expect(listed.body.items.map((item: { imageId: string }) => item.imageId).sort()).toEqual(images.slice(1).sort());
    }, 240_000);

    it('computes suggestions on the worker process for named images', async () => {
      const [unlabeled] = await client.upload(projectId, await colouredSquares(BLUE, 1, 23), {}, 'more');
      const requested = await client.http
        .post(`${iteration()}/suggestions`)
        .set('Authorization', client.auth)
        .send({ imageIds: [unlabeled.id] })
        .expect(202);
      const run = await until(
        async () =>
          (
            await client.http
              .get(`${iteration()}/suggestions/runs/${requested.body.id}`)
              .set('Authorization', client.auth)
              .expect(200)
          ).body,
        (current) => current.status !== 'requested',
      );
      expect(run).toMatchObject({ status: 'completed', imageCount: 1, suggestedCount: 1 });
    }, 240_000);
  },
);
