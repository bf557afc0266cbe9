import { expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { JobProcessor } from '../job-queue.port.js';
import { jobQueueContract } from '../testing/job-queue.contract.js';
import { redisIsReachable, TEST_REDIS_URL } from '../testing/redis.js';
import { BullmqJobQueue, BullmqJobWorker, redisConnection } from './bullmq-job-queue.js';

if (await redisIsReachable()) {
  jobQueueContract('BullMQ', async () => {
    const connection = redisConnection(TEST_REDIS_URL);
    const prefix = `diyml-test-${randomUUID()}`;
    const queue = new BullmqJobQueue(connection, prefix);
    const workers: BullmqJobWorker[] = [];
    const names: string[] = [];
    return {
      queue,
      async startProcessing(processor: JobProcessor) {
        const worker = new BullmqJobWorker(processor, connection, { prefix });
        await worker.waitUntilReady();
        workers.push(worker);
        names.push(processor.queue);
      },
      watcherCount: () => queue.watcherCount(),
      async close() {
        await Promise.all(workers.map((worker) => worker.close()));
        for (const name of names) await queue.obliterate(name);
        await queue.close();
      },
    };
  });
} else {
  it.skip(`JobQueue contract: BullMQ (skipped: no Redis at ${TEST_REDIS_URL})`, () => {});
}

it('fails its health check, saying Redis does not answer, while Redis is unreachable', async () => {
  // Nothing listens on port 1: the client keeps reconnecting and the read waits in its offline queue.
  // disconnectTimeout 0: ioredis otherwise keeps a 2 s timer to end the socket that never opened, which held the test
  // worker past its exit ("A worker process has failed to exit gracefully").
  const unreachable = { ...redisConnection('redis://127.0.0.1:1'), disconnectTimeout: 0 };
  const queue = new BullmqJobQueue(unreachable, `diyml-test-${randomUUID()}`);
  try {
    await expect(queue.check()).rejects.toThrow('Redis did not answer within 1000 ms');
  } finally {
    await queue.close().catch(() => {});
  }
});
