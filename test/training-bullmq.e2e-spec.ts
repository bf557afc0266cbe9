import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, startTestWorker, type TestApp } from './support/test-app.js';

const redis = await redisIsReachable();

(redis ? describe : describe.skip)(
  `training with BullMQ on Redis${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    let testApp: TestApp;
    let worker: { close(): Promise<void> };
    let client: ApiClient;

    beforeAll(async () => {
      testApp = await startTestApp({
        settings: { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: `diyml-test-${randomUUID()}` },
      });
      worker = await startTestWorker(testApp.settings);
      client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    });
    afterAll(async () => {
      await worker.close();
      await testApp.destroy();
    });

    it('queues the job on Redis, and a worker process trains it to completion', async () => {
      const project = await client.createProject('classification', ['red', 'blue']);
      await client.upload(project.id, await colouredSquares(RED, 10, 21), { label: 'red' }, 'red');
      await client.upload(project.id, await colouredSquares(BLUE, 10, 22), { label: 'blue' }, 'blue');
      const queued = await client.train(project.id, {
        imageSize: 16,
        epochs: 3,
        batchSize: 8,
        learningRate: 0.01,
        seed: 1,
      });
      const iteration = await client.waitForIteration(project.id, queued.id);
      expect(iteration.status).toBe('completed');
      expect(iteration.history).toHaveLength(3);
      expect(iteration.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it("streams the worker's progress within an epoch, carried through Redis to the api", async () => {
      const project = await client.createProject('classification', ['red', 'blue']);
      await client.upload(project.id, await colouredSquares(RED, 12, 23), { label: 'red' }, 'red');
      await client.upload(project.id, await colouredSquares(BLUE, 12, 24), { label: 'blue' }, 'blue');
      const queued = await client.train(project.id, {
        imageSize: 16,
        epochs: 15,
        batchSize: 2,
        learningRate: 0.01,
        seed: 1,
      });
      const events = await client.iterationEvents(project.id, queued.id);
      const batches = events.filter((event) => event.type === 'batch').map((event) => event.data);
      expect(batches.length).toBeGreaterThan(0);
      expect(batches[0]).toMatchObject({ attempt: 1, epochs: 15, batches: expect.any(Number) });
      expect(batches.every((progress) => (progress.batch as number) <= (progress.batches as number))).toBe(true);
      expect(events[events.length - 1].data.status).toBe('completed');
    });
  },
);
