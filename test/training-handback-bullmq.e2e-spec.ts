import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { EventStore, type RecordedEvent } from '@diyml/event-store';
import { startHandingBackWorker } from '@diyml/jobs/testing/handing-back-worker.js';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { iterationStream, TrainingJobProcessor } from '@diyml/training';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const redis = await redisIsReachable();
const EPOCHS = 150;

/**
 * Workers that stop during a training (a rolling deploy) hand it back to the queue: the next worker trains it again
 * from the start as the next attempt, and the attempts handed back are not lost ones (MAX_TRAINING_ATTEMPTS).
 */
(redis ? describe : describe.skip)(
  `training handed back by stopping workers${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    const prefix = `diyml-test-${randomUUID()}`;
    let testApp: TestApp;
    let client: ApiClient;
    const workers: { close(): Promise<void> }[] = [];

    beforeAll(async () => {
      testApp = await startTestApp({ settings: { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix } });
      client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    });
    afterAll(async () => {
      await Promise.all(workers.map((worker) => worker.close()));
      await testApp.destroy();
    });

    /** A worker process running the api's training processor. */
    async function startWorker() {
      const worker = await startHandingBackWorker(testApp.app.get(TrainingJobProcessor), prefix);
      workers.push(worker);
      return worker;
    }

    const eventsOf = (iterationId: string) => testApp.app.get(EventStore).readStream(iterationStream(iterationId));

    /** Waits until the iteration recorded an epoch of `attempt`. */
    async function untilTraining(iterationId: string, attempt: number): Promise<void> {
      const trained = (events: RecordedEvent[]) =>
        events.some(
          (event) => event.type === 'EpochCompleted' && (event.data as { attempt: number }).attempt === attempt,
        );
      while (!trained(await eventsOf(iterationId))) await new Promise((resolve) => setTimeout(resolve, 50));
    }

    it('ends completed after two hand-backs, each attempt recorded in order, with the model of an uninterrupted run', async () => {
      const project = await client.createProject('classification', ['red', 'blue']);
      await client.upload(project.id, await colouredSquares(RED, 10, 31), { label: 'red' }, 'red');
      await client.upload(project.id, await colouredSquares(BLUE, 10, 32), { label: 'blue' }, 'blue');
      const first = await startWorker();
      const queued = await client.train(project.id, {
        imageSize: 16,
        epochs: EPOCHS,
        batchSize: 2,
        learningRate: 0.01,
        seed: 5,
      });

      await untilTraining(queued.id, 1);
      const second = await startWorker();
      await first.close();
      await untilTraining(queued.id, 2);
      await startWorker();
      await second.close();
      const iteration = await client.waitForIteration(project.id, queued.id, 180_000);

      expect(iteration.status).toBe('completed');
      expect(iteration.history).toHaveLength(EPOCHS);
      const steps = (await eventsOf(queued.id)).map(({ type, data }) => {
        const { attempt } = data as { attempt?: number };
        return attempt === undefined ? type : `${type} ${attempt}`;
      });
      expect(steps.filter((step, position) => step !== steps[position - 1])).toEqual([
        'IterationQueued',
        'IterationStarted 1',
        'EpochCompleted 1',
        'IterationHandedBack 1',
        'IterationStarted 2',
        'EpochCompleted 2',
        'IterationHandedBack 2',
        'IterationStarted 3',
        'EpochCompleted 3',
        'IterationCompleted',
      ]);
      expect(steps.filter((step) => step === 'EpochCompleted 3')).toHaveLength(EPOCHS);

      const reproduction = await client.http
        .post(`/v1/projects/${project.id}/iterations/${queued.id}/reproduce`)
        .set('Authorization', client.auth)
        .expect(202);
      const reproduced = await client.waitForIteration(project.id, reproduction.body.id, 180_000);
      expect(reproduced).toMatchObject({ status: 'completed', reproduction: { sameMetrics: true, sameModel: true } });
    }, 420_000);
  },
);
