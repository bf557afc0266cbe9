import type { JobProcessor } from '../job-queue.port.js';
import { BullmqJobWorker, redisConnection } from '../bullmq/bullmq-job-queue.js';
import { TEST_REDIS_URL } from './redis.js';

/**
 * A BullMQ worker (on TEST_REDIS_URL) that hands its running jobs back as soon as it closes, and then waits for their
 * processors to stop as long as they take: a worker process stopping during a rolling deploy, without its deadline.
 */
export async function startHandingBackWorker(processor: JobProcessor, prefix: string): Promise<BullmqJobWorker> {
  const worker = new BullmqJobWorker(processor, redisConnection(TEST_REDIS_URL), {
    prefix,
    handBackAfterMs: 0,
    closeGraceMs: 600_000,
  });
  await worker.waitUntilReady();
  return worker;
}
