import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { redisConnection } from '@diyml/jobs';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { VIDEO_PREDICTION_QUEUE } from '@diyml/deployments';
import { LABEL_SUGGESTIONS_QUEUE, TEST_RUN_QUEUE } from '@diyml/evaluation';
import { TRAINING_QUEUE } from '@diyml/training';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, startTestWorker, type TestApp } from './support/test-app.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';
import { makeVideo } from './support/videos.js';

const redis = await redisIsReachable();

/** Polls `read` until it gives something (30 s at most). */
async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (let tries = 0; tries < 300; tries += 1) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('not reached within 30 s');
}

/**
 * A training whose job Redis lost (flushed, the job removed by hand) would stay queued forever and hold one of its
 * user's MAX_ACTIVE_TRAININGS_PER_USER slots: the api's sweeper queues it again.
 */
(redis ? describe : describe.skip)(
  `trainings whose BullMQ job was lost${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    const queuePrefix = `diyml-test-${randomUUID()}`;
    let testApp: TestApp;
    let worker: { close(): Promise<void> } | undefined;
    let client: ApiClient;
    let trainingQueue: Queue;

    beforeAll(async () => {
      testApp = await startTestApp({
        settings: {
          REDIS_URL: TEST_REDIS_URL,
          QUEUE_PREFIX: queuePrefix,
          LOST_JOBS_SWEEP_SECONDS: 1,
          MAX_ACTIVE_TRAININGS_PER_USER: 1,
        },
      });
      client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
      trainingQueue = new Queue(TRAINING_QUEUE, { connection: redisConnection(TEST_REDIS_URL), prefix: queuePrefix });
    });
    afterAll(async () => {
      await worker?.close();
      await trainingQueue.obliterate({ force: true });
      await trainingQueue.close();
      await testApp.destroy();
    });

    it('queues the job of a training again once Redis lost it, trains it once, and frees the slot', async () => {
      const project = await client.createProject('classification', ['red', 'blue']);
      await client.upload(project.id, await colouredSquares(RED, 10, 31), { label: 'red' }, 'red');
      await client.upload(project.id, await colouredSquares(BLUE, 10, 32), { label: 'blue' }, 'blue');
      const config = { imageSize: 16, epochs: 2, batchSize: 8, learningRate: 0.01, seed: 1 };
      // No worker yet: the job waits in Redis.
      const queued = await client.train(project.id, config);
      const slotTaken = await testApp.http
        .post(`/v1/projects/${project.id}/iterations`)
        .set('Authorization', client.auth)
        .send({ trainingConfig: config });
      expect({ status: slotTaken.status, code: slotTaken.body.code }).toEqual({
        status: 429,
        code: 'TOO_MANY_ACTIVE_TRAININGS',
      });

      const original = await until(() => trainingQueue.getJob(queued.id));
      const lostAt = Date.now();
      await trainingQueue.obliterate({ force: true });
      // The sweeper (every second) may queue it again at once: a job added after the flush is the new one.
      const requeued = await until(async () => {
        const job = await trainingQueue.getJob(queued.id);
        return job && job.timestamp >= lostAt ? job : undefined;
      });
      expect(original.timestamp).toBeLessThan(lostAt);
      expect(requeued.timestamp).toBeGreaterThanOrEqual(lostAt);
      expect(requeued.data).toEqual({ v: 1, projectId: project.id, iterationId: queued.id });

      worker = await startTestWorker(testApp.settings);
      const iteration = await client.waitForIteration(project.id, queued.id);
      expect(iteration.status).toBe('completed');
      expect(iteration.history).toHaveLength(2);
      const next = await client.train(project.id, config);
      expect(next.status).toBe('queued');
    });
  },
);

(redis ? describe : describe.skip)(
  `an embedded api started on a log with a training no job runs${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    let testApp: TestApp;
    afterAll(async () => {
      await testApp?.destroy();
    });

    it('trains it: in-process jobs die with their process, so every start queues the unfinished ones again', async () => {
      // Queued on a Redis no worker reads, then the api stops: the log holds a queued training, no job of this
      // process runs it (as after a crash of an embedded api mid-queue).
      const queuePrefix = `diyml-test-${randomUUID()}`;
      testApp = await startTestApp({ settings: { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: queuePrefix } });
      const user = await registerAndLogIn(testApp);
      let client = new ApiClient(testApp, user.auth);
      const project = await client.createProject('classification', ['red', 'blue']);
      await client.upload(project.id, await colouredSquares(RED, 10, 33), { label: 'red' }, 'red');
      await client.upload(project.id, await colouredSquares(BLUE, 10, 34), { label: 'blue' }, 'blue');
      const queued = await client.train(project.id, {
        imageSize: 16,
        epochs: 2,
        batchSize: 8,
        learningRate: 0.01,
        seed: 1,
      });
      await testApp.close();
      const queue = new Queue(TRAINING_QUEUE, { connection: redisConnection(TEST_REDIS_URL), prefix: queuePrefix });
      await queue.obliterate({ force: true });
      await queue.close();

      testApp = await startTestApp({ dataDir: testApp.dataDir });
      client = new ApiClient(testApp, user.auth);
      const iteration = await client.waitForIteration(project.id, queued.id);
      expect(iteration.status).toBe('completed');
    });
  },
);

/**
 * A project with an imported model (an iteration without training), two unlabeled photos, and a test run and a
 * suggestion run requested of it: with no worker, their jobs wait in Redis.
 */
async function requestTestRunAndSuggestions(client: ApiClient) {
  const project = await client.createProject('classification', ['red', 'blue']);
  await client.upload(project.id, [...(await colouredSquares(RED, 1, 41)), ...(await colouredSquares(BLUE, 1, 42))]);
  const imported = await client.http
    .post(`/v1/projects/${project.id}/models`)
    .set('Authorization', client.auth)
    .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
    .expect(201);
  const iteration = `/v1/projects/${project.id}/iterations/${imported.body.id}`;
  const [red] = await colouredSquares(RED, 1, 43);
  const testRun = await client.http
    .post(`${iteration}/test-runs`)
    .set('Authorization', client.auth)
    .attach('images', red, 'r.png')
    .field('labels', '{"r.png": "red"}')
    .expect(202);
  const suggestionRun = await client.http
    .post(`${iteration}/suggestions`)
    .set('Authorization', client.auth)
    .send({})
    .expect(202);
  return {
    project,
    iterationId: imported.body.id as string,
    testRunId: testRun.body.id as string,
    suggestionRunId: suggestionRun.body.id as string,
    testRunPath: `${iteration}/test-runs/${testRun.body.id}`,
    suggestionRunPath: `${iteration}/suggestions/runs/${suggestionRun.body.id}`,
  };
}

/** The run at `path` once it is no longer requested. */
function finished(client: ApiClient, path: string) {
  return until(async () => {
    const run = (await client.http.get(path).set('Authorization', client.auth).expect(200)).body;
    return run.status === 'requested' ? undefined : (run as { status: string; suggestedCount?: number });
  });
}

(redis ? describe : describe.skip)(
  `test runs, suggestion runs and video predictions whose BullMQ job was lost${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    const queuePrefix = `diyml-test-${randomUUID()}`;
    let testApp: TestApp;
    let worker: { close(): Promise<void> } | undefined;
    let queues: Queue[];

    beforeAll(async () => {
      testApp = await startTestApp({
        settings: { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: queuePrefix, LOST_JOBS_SWEEP_SECONDS: 1 },
      });
      queues = [TEST_RUN_QUEUE, LABEL_SUGGESTIONS_QUEUE, VIDEO_PREDICTION_QUEUE].map(
        (name) => new Queue(name, { connection: redisConnection(TEST_REDIS_URL), prefix: queuePrefix }),
      );
    });
    afterAll(async () => {
      await worker?.close();
      for (const queue of queues) {
        await queue.obliterate({ force: true });
        await queue.close();
      }
      await testApp.destroy();
    });

    it('queues their jobs again once Redis lost them, and the worker then completes them', async () => {
      const client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
      const runs = await requestTestRunAndSuggestions(client);
      const deployment = (
        await client.http
          .post(`/v1/projects/${runs.project.id}/deployments`)
          .set('Authorization', client.auth)
          .send({ iterationId: runs.iterationId })
          .expect(201)
      ).body;
      const video = await makeVideo('color=c=red:duration=1:size=32x24:rate=10', 1, 'mp4');
      const videoPrediction = await client.http
        .post(`/v1/predict/${deployment.id}/videos?framesPerSecond=2`)
        .set('X-Api-Key', deployment.apiKey)
        .attach('video', video, 'red.mp4')
        .expect(202);
      const videoPredictionId = videoPrediction.body.id as string;
      const [testRuns, suggestions, videoPredictions] = queues;
      await until(() => testRuns.getJob(runs.testRunId));
      await until(() => suggestions.getJob(runs.suggestionRunId));
      await until(() => videoPredictions.getJob(videoPredictionId));
      const lostAt = Date.now();
      for (const queue of queues) await queue.obliterate({ force: true });

      // The sweeper (every second) may queue them again at once: a job added after the flush is the new one.
      const requeuedAfter = (queue: Queue, id: string) =>
        until(async () => {
          const job = await queue.getJob(id);
          return job && job.timestamp >= lostAt ? job : undefined;
        });
      expect((await requeuedAfter(testRuns, runs.testRunId)).data).toEqual({
        v: 1,
        projectId: runs.project.id,
        testRunId: runs.testRunId,
      });
      expect((await requeuedAfter(suggestions, runs.suggestionRunId)).data).toMatchObject({
        v: 1,
        projectId: runs.project.id,
        runId: runs.suggestionRunId,
      });
      expect((await requeuedAfter(videoPredictions, videoPredictionId)).data).toEqual({ v: 1, videoPredictionId });
      const testRun = await client.http.get(runs.testRunPath).set('Authorization', client.auth).expect(200);
      expect(testRun.body.status).toBe('requested');

      worker = await startTestWorker(testApp.settings);
      expect((await finished(client, runs.testRunPath)).status).toBe('completed');
      expect(await finished(client, runs.suggestionRunPath)).toMatchObject({ status: 'completed', suggestedCount: 2 });
      const predicted = await until(async () => {
        const response = await client.http
          .get(`/v1/predict/${deployment.id}/videos/${videoPredictionId}`)
          .set('X-Api-Key', deployment.apiKey)
          .expect(200);
        return response.body.status === 'running' ? undefined : response.body;
      });
      expect(predicted).toMatchObject({ status: 'completed', progress: { framesDone: 2, frameCount: 2 } });
    }, 120_000);
  },
);

(redis ? describe : describe.skip)(
  `a test run whose job ended without recording its outcome${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    const queuePrefix = `diyml-test-${randomUUID()}`;
    let testApp: TestApp;
    let testRuns: Queue;
    let foreignWorker: Worker | undefined;

    beforeAll(async () => {
      testApp = await startTestApp({
        settings: { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: queuePrefix, LOST_JOBS_SWEEP_SECONDS: 1 },
      });
      testRuns = new Queue(TEST_RUN_QUEUE, { connection: redisConnection(TEST_REDIS_URL), prefix: queuePrefix });
    });
    afterAll(async () => {
      await foreignWorker?.close();
      await testRuns.obliterate({ force: true });
      await testRuns.close();
      await testApp.destroy();
    });

    it('is failed with JOB_LOST, saying to request it again, once its job ended over a minute ago', async () => {
      const client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
      const runs = await requestTestRunAndSuggestions(client);
      // A worker that ends the job and records nothing, as one whose database did not answer would.
      foreignWorker = new Worker(TEST_RUN_QUEUE, async () => {}, {
        connection: redisConnection(TEST_REDIS_URL),
        prefix: queuePrefix,
      });
      await until(async () => ((await testRuns.getJobState(runs.testRunId)) === 'completed' ? true : undefined));
      // Still within the grace period: its worker may be recording the outcome.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const unchanged = await client.http.get(runs.testRunPath).set('Authorization', client.auth).expect(200);
      expect(unchanged.body.status).toBe('requested');

      const redisClient = await testRuns.getBackend().client;
      await redisClient.hset(testRuns.toKey(runs.testRunId), { finishedOn: Date.now() - 120_000 });
      expect(await finished(client, runs.testRunPath)).toMatchObject({
        status: 'failed',
        error: { code: 'JOB_LOST', reason: expect.stringContaining('request the test run again') },
      });
    }, 120_000);
  },
);

(redis ? describe : describe.skip)(
  `an embedded api started on a log with a test run and a suggestion run no job runs${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    let testApp: TestApp;
    afterAll(async () => {
      await testApp?.destroy();
    });

    it('completes both: every start queues the unfinished jobs again from the log', async () => {
      const queuePrefix = `diyml-test-${randomUUID()}`;
      testApp = await startTestApp({ settings: { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: queuePrefix } });
      const user = await registerAndLogIn(testApp);
      const runs = await requestTestRunAndSuggestions(new ApiClient(testApp, user.auth));
      await testApp.close();
      for (const name of [TEST_RUN_QUEUE, LABEL_SUGGESTIONS_QUEUE]) {
        const queue = new Queue(name, { connection: redisConnection(TEST_REDIS_URL), prefix: queuePrefix });
        await queue.obliterate({ force: true });
        await queue.close();
      }

      testApp = await startTestApp({ dataDir: testApp.dataDir });
      const client = new ApiClient(testApp, user.auth);
      expect((await finished(client, runs.testRunPath)).status).toBe('completed');
      expect((await finished(client, runs.suggestionRunPath)).status).toBe('completed');
    }, 120_000);
  },
);
