import { afterAll, describe, expect, it } from 'vitest';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { ReadOnlyAppModule, verifyReadModels } from '../apps/api/src/replay-verification.js';
import { Settings, validateSettings } from '@diyml/core';
import { EventStore } from '@diyml/event-store';
import { BullmqJobQueue, InProcessJobQueue, JobQueue } from '@diyml/jobs';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { TRAINING_QUEUE } from '@diyml/training';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp } from './support/test-app.js';

const CONFIG = {
  imageSize: 16,
  epochs: 2,
  batchSize: 8,
  learningRate: 0.01,
  seed: 3,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

/** A data folder whose log holds an iteration that was queued and never trained: its api queued it on BullMQ, with no worker. */
async function dataDirWithQueuedIteration(): Promise<string> {
  const testApp = await startTestApp({
    settings: { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: `diyml-test-${randomUUID()}` },
  });
  const client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  const project = await client.createProject('classification', ['red', 'blue']);
  await client.upload(project.id, await colouredSquares(RED, 12, 1), { label: 'red' }, 'red');
  await client.upload(project.id, await colouredSquares(BLUE, 12, 2), { label: 'blue' }, 'blue');
  await client.configureTraining(project.id, CONFIG);
  const queued = await client.train(project.id);
  expect(queued.status).toBe('queued');
  await (testApp.app.get(JobQueue) as BullmqJobQueue).obliterate(TRAINING_QUEUE);
  await testApp.close();
  return testApp.dataDir;
}

if (await redisIsReachable()) {
  describe('npm run replay -- --verify', () => {
    let dataDir: string | undefined;
    afterAll(() => {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('is strictly read-only: on a log with a queued iteration it trains nothing and appends nothing', async () => {
      dataDir = await dataDirWithQueuedIteration();
      const settings = validateSettings({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
      const moduleRef = await Test.createTestingModule({ imports: [ReadOnlyAppModule] })
        .overrideProvider(Settings)
        .useValue(settings)
        .compile();
      await moduleRef.init();
      const events = moduleRef.get(EventStore);
      const headBefore = await events.headPosition();

      const report = await verifyReadModels(moduleRef);
      // Had a reactor queued the training job, it would run now: wait until the in-process queue is idle.
      await (moduleRef.get(JobQueue) as InProcessJobQueue).drain();

      expect(await events.headPosition()).toBe(headBefore);
      expect(report).toMatchObject({ mode: 'embedded', equal: true });
      expect(report.events).toBeGreaterThan(20);
      expect(report.comparisons.find((comparison) => comparison.collection === 'iterations')).toMatchObject({
        live: 1,
        rebuilt: 1,
        equal: true,
      });
      expect(report.proves).toContain('two rebuilds from the log were compared');
      await moduleRef.close();
    });
  });
} else {
  it.skip(`replay --verify (skipped: its data folder needs Redis at ${TEST_REDIS_URL})`, () => {});
}
