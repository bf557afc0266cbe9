import { describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { TcpProxy } from '@diyml/core/testing/tcp-proxy.js';
import type { JobContext, JobProcessor } from '../job-queue.port.js';
import { redisIsReachable, TEST_REDIS_URL } from '../testing/redis.js';
import { BullmqJobQueue, BullmqJobWorker, redisConnection } from './bullmq-job-queue.js';

type Payload = { v: number; value: string };

async function until(condition: () => boolean, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Records the jobs it finished; each run waits until `release()`. */
class HeldProcessor implements JobProcessor<Payload> {
  readonly started: string[] = [];
  readonly finished: string[] = [];
  private released = Promise.resolve();
  release: () => void = () => {};
  constructor(readonly queue: string) {}
  hold(): void {
    this.released = new Promise((resolve) => (this.release = resolve));
  }
  async process(payload: Payload): Promise<void> {
    this.started.push(payload.value);
    await this.released;
    this.finished.push(payload.value);
  }
  async failed(_payload: Payload, _error: Error, _context: JobContext): Promise<void> {}
}

((await redisIsReachable()) ? describe : describe.skip)('BullMQ: a worker closed while Redis is away', () => {
  it('finishes its running job and closes; the job goes back to the queue for another worker', async () => {
    const prefix = `diyml-test-${randomUUID()}`;
    const queueName = `close-${randomUUID()}`;
    const connection = redisConnection(TEST_REDIS_URL);
    const queue = new BullmqJobQueue(connection, prefix);
    const proxy = await TcpProxy.start(TEST_REDIS_URL);
    const options = { prefix, lockDurationMs: 1000, stalledIntervalMs: 500 };
    const cutOff = new HeldProcessor(queueName);
    const survivor = new HeldProcessor(queueName);
    const survivors: BullmqJobWorker[] = [];
    onTestFinished(async () => {
      await Promise.all(survivors.map((worker) => worker.close()));
      await queue.obliterate(queueName);
      await queue.close();
      await proxy.close();
    });
    cutOff.hold();
    const worker = new BullmqJobWorker(cutOff, redisConnection(proxy.through(TEST_REDIS_URL)), options);
    await worker.waitUntilReady();
    await queue.enqueue({ queue: queueName, id: 'job-1', payload: { v: 1, value: 'a' } });
    await until(() => cutOff.started.length === 1);

    await proxy.cut();
    const closing = worker.close();
    cutOff.release();
    // Before, BullMQ's close waited for a connection ioredis never ended while Redis was away.
    await closing;
    expect(cutOff.finished).toEqual(['a']);

    // Redis never heard that the job ended: once its lock expired, a worker that reaches Redis runs it again.
    const other = new BullmqJobWorker(survivor, connection, options);
    survivors.push(other);
    await until(() => survivor.finished.length === 1);
    expect(survivor.finished).toEqual(['a']);
  }, 60_000);
});
