import { describe, it, type TestContext } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { JobContext, JobProcessor } from '../job-queue.port.js';
import { redisIsReachable, TEST_REDIS_URL } from '../testing/redis.js';
import { BullmqJobQueue, BullmqJobWorker, type BullmqJobWorkerOptions, redisConnection } from './bullmq-job-queue.js';

const STALLING_WORKER = fileURLToPath(new URL('../testing/stalling-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

type Payload = { v: number; value: string };

/** Starts a worker process, waits until it took the job, and kills it with SIGKILL (no clean-up runs). */
async function killWorkerHoldingJob(prefix: string, queue: string, jobId: string): Promise<void> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', STALLING_WORKER, TEST_REDIS_URL, prefix, queue],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`took ${jobId}`)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the stalling worker exited with ${code} before taking the job`)));
    });
  } finally {
    // Killed whether or not it took the job: a worker left running when a test failed (e.g. its timeout under load)
    // kept the test worker from exiting and held the queue's Redis connection.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}

async function until(condition: () => boolean, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

class RecordingProcessor implements JobProcessor<Payload> {
  readonly processed: string[] = [];
  readonly failures: { value: string; message: string }[] = [];
  constructor(readonly queue: string) {}
  async process(payload: Payload): Promise<void> {
    this.processed.push(payload.value);
  }
  async failed(payload: Payload, error: Error, _context: JobContext): Promise<void> {
    this.failures.push({ value: payload.value, message: error.message });
  }
}

if (await redisIsReachable()) {
  // Concurrent: each test mostly waits for a worker process to start (~1.5 s each), on a queue of its own.
  describe.concurrent('BullMQ: jobs whose worker dies', () => {
    const connection = redisConnection(TEST_REDIS_URL);

    /** A queue of the test's own; its workers are closed and the queue emptied when the test ends. */
    function freshQueue({ onTestFinished }: TestContext) {
      const prefix = `diyml-test-${randomUUID()}`;
      const queueName = `loss-${randomUUID()}`;
      const queue = new BullmqJobQueue(connection, prefix);
      const workers: BullmqJobWorker[] = [];
      onTestFinished(async () => {
        await Promise.all(workers.map((worker) => worker.close()));
        await queue.obliterate(queueName);
        await queue.close();
      });
      async function startWorker(processor: JobProcessor, options: Omit<BullmqJobWorkerOptions, 'prefix'>) {
        const worker = new BullmqJobWorker(processor, connection, { prefix, ...options });
        await worker.waitUntilReady();
        workers.push(worker);
      }
      return {
        prefix,
        queueName,
        queue,
        startWorker,
        /** A worker in this process that survives the killed ones. */
        survivor: (processor: JobProcessor, maxWorkerLosses?: number) =>
          startWorker(processor, { lockDurationMs: 1000, stalledIntervalMs: 300, maxWorkerLosses }),
      };
    }

    it('runs a job that failed because the database did not answer again, past its attempts, until it answers', async (context) => {
      const { expect } = context;
      const { queue, queueName, startWorker } = freshQueue(context);
      // The error pg really throws while PostgreSQL is down (nothing listens on port 1).
      const down = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' });
      const processor = new RecordingProcessor(queueName);
      let outageLeft = 3;
      const process = processor.process.bind(processor);
      processor.process = async (payload: Payload) => {
        if (outageLeft-- > 0) await down.query('SELECT 1');
        return process(payload);
      };
      await startWorker(processor, { outagePauseMs: 50 });
      await queue.enqueue({ queue: queueName, id: randomUUID(), payload: { v: 1, value: 'through an outage' } });
      try {
        await until(() => processor.processed.length + processor.failures.length > 0);
      } finally {
        await down.end();
      }
      // Three failures, more than the queue's two attempts: processed once, no failure recorded.
      expect(outageLeft).toBe(-1);
      expect(processor.processed).toEqual(['through an outage']);
      expect(processor.failures).toEqual([]);
    });

    it('hands a job whose worker was killed twice to a surviving worker, which processes it', async (context) => {
      const { expect } = context;
      const jobs = freshQueue(context);
      const id = randomUUID();
      await jobs.queue.enqueue({ queue: jobs.queueName, id, payload: { v: 1, value: 'twice-orphaned' } });
      await killWorkerHoldingJob(jobs.prefix, jobs.queueName, id);
      await killWorkerHoldingJob(jobs.prefix, jobs.queueName, id);
      const processor = new RecordingProcessor(jobs.queueName);
      await jobs.survivor(processor);
      await until(() => processor.processed.length + processor.failures.length > 0);
      expect(processor.processed).toEqual(['twice-orphaned']);
      expect(processor.failures).toEqual([]);
    }, 60000);

    it('records a failure through the processor when the job lost its worker more often than allowed', async (context) => {
      const { expect } = context;
      const jobs = freshQueue(context);
      const id = randomUUID();
      await jobs.queue.enqueue({ queue: jobs.queueName, id, payload: { v: 1, value: 'cursed' } });
      await killWorkerHoldingJob(jobs.prefix, jobs.queueName, id);
      const processor = new RecordingProcessor(jobs.queueName);
      await jobs.survivor(processor, 0);
      await until(() => processor.failures.length > 0);
      expect(processor.processed).toEqual([]);
      expect(processor.failures).toEqual([{ value: 'cursed', message: 'its worker stopped 1 time while running it' }]);
    }, 60000);
  });
} else {
  it.skip(`BullMQ worker loss (skipped: no Redis at ${TEST_REDIS_URL})`, () => {});
}
