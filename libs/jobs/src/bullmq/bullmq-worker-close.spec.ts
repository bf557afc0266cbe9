import { describe, expect, it, onTestFinished } from 'vitest';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PlatformModule, Settings, validateSettings } from '@diyml/core';
import { TcpProxy } from '@diyml/core/testing/tcp-proxy.js';
import { type JobContext, type JobProcessor, JobProcessorProvider, JobQueue } from '../job-queue.port.js';
import { JobsModule } from '../jobs.module.js';
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

/**
 * Records the jobs it started and finished, in its own lists and in `steps`; each run waits until `release()`, then
 * reports its name as progress if `reportsProgress`.
 */
class HeldProcessor implements JobProcessor<Payload> {
  readonly started: string[] = [];
  readonly finished: string[] = [];
  readonly failures: string[] = [];
  private released = Promise.resolve();
  release: () => void = () => {};
  constructor(
    readonly queue: string,
    private readonly name = '',
    private readonly steps: string[] = [],
    private readonly reportsProgress = false,
  ) {}
  hold(): void {
    this.released = new Promise((resolve) => (this.release = resolve));
  }
  async process(payload: Payload, context: JobContext): Promise<void> {
    this.started.push(payload.value);
    this.steps.push(`${this.name} started ${payload.value} (attempt ${context.attempt})`);
    await this.released;
    if (this.reportsProgress) await context.reportProgress({ by: this.name });
    this.finished.push(payload.value);
    this.steps.push(`${this.name} finished ${payload.value}`);
  }
  async failed(payload: Payload, _error: Error, _context: JobContext): Promise<void> {
    this.failures.push(payload.value);
  }
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

  it('closes when it cannot hand back a job that never ends; the job goes back once its lock expires', async () => {
    const prefix = `diyml-test-${randomUUID()}`;
    const queueName = `close-${randomUUID()}`;
    const connection = redisConnection(TEST_REDIS_URL);
    const queue = new BullmqJobQueue(connection, prefix);
    const proxy = await TcpProxy.start(TEST_REDIS_URL);
    const options = { prefix, lockDurationMs: 1000, stalledIntervalMs: 500 };
    const steps: string[] = [];
    const cutOff = new HeldProcessor(queueName, 'A', steps);
    const survivor = new HeldProcessor(queueName, 'B', steps);
    const survivors: BullmqJobWorker[] = [];
    onTestFinished(async () => {
      cutOff.release();
      await Promise.all(survivors.map((worker) => worker.close()));
      await queue.obliterate(queueName);
      await queue.close();
      await proxy.close();
    });
    cutOff.hold();
    const worker = new BullmqJobWorker(cutOff, redisConnection(proxy.through(TEST_REDIS_URL)), {
      ...options,
      handBackAfterMs: 50,
      closeGraceMs: 500,
    });
    await worker.waitUntilReady();
    await queue.enqueue({ queue: queueName, id: 'job-1', payload: { v: 1, value: 'a' } });
    await until(() => cutOff.started.length === 1);

    await proxy.cut();
    // The hand-back waits for a Redis that does not answer no longer than the close grace.
    await worker.close();
    steps.push('A closed');

    const other = new BullmqJobWorker(survivor, connection, options);
    survivors.push(other);
    await until(() => survivor.finished.length === 1);
    expect(steps).toEqual(['A started a (attempt 1)', 'A closed', 'B started a (attempt 1)', 'B finished a']);
  }, 60_000);
});

((await redisIsReachable()) ? describe : describe.skip)('BullMQ: a worker closed with a job still running', () => {
  it('hands the job back at its hand-back time: another worker runs it at once, on the same attempt', async () => {
    const prefix = `diyml-test-${randomUUID()}`;
    const queueName = `hand-back-${randomUUID()}`;
    const connection = redisConnection(TEST_REDIS_URL);
    const queue = new BullmqJobQueue(connection, prefix);
    // A lock far longer than the test may take: only a hand-back lets the other worker have the job in time.
    const options = { prefix, lockDurationMs: 600_000, stalledIntervalMs: 300_000 };
    const steps: string[] = [];
    const leaving = new HeldProcessor(queueName, 'A', steps, true);
    const staying = new HeldProcessor(queueName, 'B', steps, true);
    const workers: BullmqJobWorker[] = [];
    onTestFinished(async () => {
      leaving.release();
      await Promise.all(workers.map((worker) => worker.close()));
      await queue.obliterate(queueName);
      await queue.close();
    });
    leaving.hold();
    const workerA = new BullmqJobWorker(leaving, connection, { ...options, handBackAfterMs: 50 });
    workers.push(workerA);
    await workerA.waitUntilReady();
    await queue.enqueue({ queue: queueName, id: 'job-1', payload: { v: 1, value: 'long' } });
    await until(() => leaving.started.length === 1);
    const workerB = new BullmqJobWorker(staying, connection, options);
    workers.push(workerB);
    await workerB.waitUntilReady();

    await workerA.close();
    steps.push('A closed');
    await until(() => staying.finished.length === 1);

    // A's processor had not ended, yet A closed and B ran the job from the start, on the attempt A had.
    expect(steps.filter((step) => step !== 'A closed')).toEqual([
      'A started long (attempt 1)',
      'B started long (attempt 1)',
      'B finished long',
    ]);
    expect(steps.indexOf('A closed')).toBeGreaterThan(0);
    // What A's processor does once the job is B's changes nothing: its progress, its end.
    leaving.release();
    await until(() => leaving.finished.length === 1);
    expect(await queue.progressOf(queueName, 'job-1')).toEqual({ by: 'B' });
    expect(leaving.failures).toEqual([]);
    expect(staying.failures).toEqual([]);
    expect((await queue.statusOf(queueName, 'job-1')).status).toBe('ended');
  }, 60_000);

  it('tells the processor the job is handed back, and lets it stop before another worker runs the job', async () => {
    const prefix = `diyml-test-${randomUUID()}`;
    const queueName = `hand-back-${randomUUID()}`;
    const connection = redisConnection(TEST_REDIS_URL);
    const queue = new BullmqJobQueue(connection, prefix);
    const options = { prefix, lockDurationMs: 600_000, stalledIntervalMs: 300_000 };
    const steps: string[] = [];
    const stopping: JobProcessor<Payload> = {
      queue: queueName,
      process: async (payload, context) => {
        steps.push(`A started ${payload.value} (attempt ${context.attempt})`);
        await new Promise((resolve) => context.handedBack.addEventListener('abort', resolve, { once: true }));
        // A stop that takes a while (a training thread ending, an event recorded) still comes first.
        await new Promise((resolve) => setTimeout(resolve, 200));
        steps.push(`A stopped ${payload.value}: handed back`);
      },
      failed: async (payload) => {
        steps.push(`A failed ${payload.value}`);
      },
    };
    const staying = new HeldProcessor(queueName, 'B', steps);
    const workers: BullmqJobWorker[] = [];
    onTestFinished(async () => {
      await Promise.all(workers.map((worker) => worker.close()));
      await queue.obliterate(queueName);
      await queue.close();
    });
    // A grace far longer than the test may take: the hand-back waits for the processor, not for the grace.
    const workerA = new BullmqJobWorker(stopping, connection, {
      ...options,
      handBackAfterMs: 0,
      closeGraceMs: 600_000,
    });
    workers.push(workerA);
    await workerA.waitUntilReady();
    await queue.enqueue({ queue: queueName, id: 'job-1', payload: { v: 1, value: 'long' } });
    await until(() => steps.length === 1);
    const workerB = new BullmqJobWorker(staying, connection, options);
    workers.push(workerB);
    await workerB.waitUntilReady();

    await workerA.close();
    await until(() => staying.finished.length === 1);

    expect(steps).toEqual([
      'A started long (attempt 1)',
      'A stopped long: handed back',
      'B started long (attempt 1)',
      'B finished long',
    ]);
  }, 60_000);

  it('hands back at once a job waiting for the database to answer again, without using up an attempt', async () => {
    const prefix = `diyml-test-${randomUUID()}`;
    const queueName = `hand-back-${randomUUID()}`;
    const connection = redisConnection(TEST_REDIS_URL);
    const queue = new BullmqJobQueue(connection, prefix);
    // The error pg really throws while PostgreSQL is down (nothing listens on port 1).
    const down = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' });
    const options = { prefix, lockDurationMs: 600_000, stalledIntervalMs: 300_000 };
    const steps: string[] = [];
    const cutOff: JobProcessor<Payload> = {
      queue: queueName,
      process: async (payload, context) => {
        steps.push(`A started ${payload.value} (attempt ${context.attempt})`);
        await down.query('SELECT 1');
      },
      failed: async (payload) => {
        steps.push(`A failed ${payload.value}`);
      },
    };
    const staying = new HeldProcessor(queueName, 'B', steps);
    const workers: BullmqJobWorker[] = [];
    onTestFinished(async () => {
      await Promise.all(workers.map((worker) => worker.close()));
      await down.end();
      await queue.obliterate(queueName);
      await queue.close();
    });
    // Paused far longer than the test may take, and no hand-back time: the close itself hands the job back.
    const workerA = new BullmqJobWorker(cutOff, connection, { ...options, outagePauseMs: 600_000 });
    workers.push(workerA);
    await workerA.waitUntilReady();
    await queue.enqueue({ queue: queueName, id: 'job-1', payload: { v: 1, value: 'stuck' } });
    await until(() => steps.length === 1);
    const workerB = new BullmqJobWorker(staying, connection, options);
    workers.push(workerB);
    await workerB.waitUntilReady();

    await workerA.close();
    await until(() => staying.finished.length === 1);

    expect(steps).toEqual(['A started stuck (attempt 1)', 'B started stuck (attempt 1)', 'B finished stuck']);
  }, 60_000);
});

const HAND_BACK_QUEUE = `runner-hand-back-${randomUUID()}`;
const handBackSteps: string[] = [];
let releaseEndless: () => void = () => {};
const endless = new Promise<void>((resolve) => (releaseEndless = resolve));

/** A job that runs until the test ends, longer than the worker may take to shut down. */
@JobProcessorProvider()
@Injectable()
class EndlessProcessor implements JobProcessor<{ v: number }> {
  readonly queue = HAND_BACK_QUEUE;
  async process(_payload: { v: number }, context: JobContext): Promise<void> {
    handBackSteps.push(`the stopping worker started attempt ${context.attempt}`);
    await endless;
  }
  async failed(): Promise<void> {
    handBackSteps.push('the stopping worker recorded a failure');
  }
}

((await redisIsReachable()) ? describe : describe.skip)('JobsModule in a worker at shutdown', () => {
  it('hands a job still running near SHUTDOWN_TIMEOUT_SECONDS back to the queue, for another worker', async () => {
    const prefix = `diyml-test-${randomUUID()}`;
    const connection = redisConnection(TEST_REDIS_URL);
    const queue = new BullmqJobQueue(connection, prefix);
    const others: BullmqJobWorker[] = [];
    onTestFinished(async () => {
      releaseEndless();
      await Promise.all(others.map((worker) => worker.close()));
      await queue.obliterate(HAND_BACK_QUEUE);
      await queue.close();
    });
    const settings = validateSettings({
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      SHUTDOWN_TIMEOUT_SECONDS: '3',
    });
    const moduleRef = await Test.createTestingModule({
      imports: [PlatformModule, JobsModule.forRoot('worker')],
      providers: [EndlessProcessor],
    })
      .overrideProvider(Settings)
      .useValue(settings)
      .compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.get(JobQueue).enqueue({ queue: HAND_BACK_QUEUE, id: 'job-1', payload: { v: 1 } });
    await until(() => handBackSteps.length === 1);
    const other = new BullmqJobWorker(
      {
        queue: HAND_BACK_QUEUE,
        process: async (_payload, context) => {
          handBackSteps.push(`another worker ran attempt ${context.attempt}`);
        },
        failed: async () => {},
      },
      connection,
      { prefix },
    );
    others.push(other);
    await other.waitUntilReady();

    // Its job never ends; the lock it holds (JOB_LOCK_DURATION_MS, 60 s) would outlast the test.
    await app.close();
    await until(() => handBackSteps.length === 2);

    expect(handBackSteps).toEqual(['the stopping worker started attempt 1', 'another worker ran attempt 1']);
    expect((await queue.statusOf(HAND_BACK_QUEUE, 'job-1')).status).toBe('ended');
  }, 60_000);
});
