import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { type JobContext, type JobProcessor, type JobQueue, UnrecoverableJobError } from '../job-queue.port.js';

/** A queue plus whatever runs its jobs in this adapter (in-process runner, or a BullMQ worker). */
export interface JobQueueHarness {
  queue: JobQueue;
  startProcessing(processor: JobProcessor): Promise<void>;
  close(): Promise<void>;
}

type Payload = { v: number; value: string };

class RecordingProcessor implements JobProcessor<Payload> {
  readonly processed: { value: string; attempt: number }[] = [];
  readonly failures: { value: string; message: string; attempt: number }[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    readonly queue: string,
    private readonly behaviour: (payload: Payload, context: JobContext) => Promise<void> = async () => {},
  ) {}

  async process(payload: Payload, context: JobContext): Promise<void> {
    this.processed.push({ value: payload.value, attempt: context.attempt });
    this.notify();
    await this.behaviour(payload, context);
  }

  async failed(payload: Payload, error: Error, context: JobContext): Promise<void> {
    this.failures.push({ value: payload.value, message: error.message, attempt: context.attempt });
    this.notify();
  }

  async until(condition: () => boolean, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private notify() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** The behaviour every JobQueue adapter must have. */
export function jobQueueContract(name: string, create: () => Promise<JobQueueHarness>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let harness: JobQueueHarness;
    let queueName: string;

    beforeEach(async () => {
      harness = await create();
      queueName = `test-${randomUUID()}`;
    });
    afterEach(async () => {
      await harness.close();
    });

    it('runs an enqueued job with its payload', async () => {
      const processor = new RecordingProcessor(queueName);
      await harness.startProcessing(processor);
      expect(await harness.queue.enqueue({ queue: queueName, id: randomUUID(), payload: { v: 1, value: 'a' } })).toBe(
        'enqueued',
      );
      await processor.until(() => processor.processed.length === 1);
      expect(processor.processed).toEqual([{ value: 'a', attempt: 1 }]);
    });

    it('runs a job id once even when it is enqueued twice', async () => {
      const processor = new RecordingProcessor(queueName);
      await harness.startProcessing(processor);
      const id = randomUUID();
      await harness.queue.enqueue({ queue: queueName, id, payload: { v: 1, value: 'first' } });
      expect(await harness.queue.enqueue({ queue: queueName, id, payload: { v: 1, value: 'second' } })).toBe(
        'duplicate',
      );
      await harness.queue.enqueue({ queue: queueName, id: randomUUID(), payload: { v: 1, value: 'other' } });
      await processor.until(() => processor.processed.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(processor.processed.map((p) => p.value)).toEqual(['first', 'other']);
    });

    it('retries a failing job and reports the failure once, after the last attempt', async () => {
      const processor = new RecordingProcessor(queueName, async () => {
        throw new Error('disk full');
      });
      await harness.startProcessing(processor);
      await harness.queue.enqueue({ queue: queueName, id: randomUUID(), payload: { v: 1, value: 'x' } });
      await processor.until(() => processor.failures.length === 1);
      expect(processor.processed.map((p) => p.attempt)).toEqual([1, 2]);
      expect(processor.failures).toEqual([{ value: 'x', message: 'disk full', attempt: 2 }]);
    });

    it('does not retry an unrecoverable failure', async () => {
      const processor = new RecordingProcessor(queueName, async () => {
        throw new UnrecoverableJobError('no images');
      });
      await harness.startProcessing(processor);
      await harness.queue.enqueue({ queue: queueName, id: randomUUID(), payload: { v: 1, value: 'bad' } });
      await processor.until(() => processor.failures.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(processor.processed).toHaveLength(1);
      expect(processor.failures[0]).toMatchObject({ message: 'no images', attempt: 1 });
    });

    it("lets the queue read a running job's latest progress, the last report replacing the earlier ones", async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      const processor = new RecordingProcessor(queueName, async (_, context) => {
        await context.reportProgress({ batch: 1, batches: 4 });
        await context.reportProgress({ batch: 2, batches: 4 });
        await gate;
      });
      await harness.startProcessing(processor);
      const id = randomUUID();
      expect(await harness.queue.progressOf(queueName, id)).toBeNull();
      await harness.queue.enqueue({ queue: queueName, id, payload: { v: 1, value: 'reporting' } });
      try {
        await processor.until(() => processor.processed.length === 1);
        const deadline = Date.now() + 5000;
        while ((await harness.queue.progressOf(queueName, id))?.batch !== 2 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await harness.queue.progressOf(queueName, id)).toEqual({ batch: 2, batches: 4 });
      } finally {
        release();
      }
    });

    it('removes a job that is still waiting, so it never runs', async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      const processor = new RecordingProcessor(queueName, async (payload) => {
        if (payload.value === 'blocker') await gate;
      });
      await harness.startProcessing(processor);
      await harness.queue.enqueue({ queue: queueName, id: randomUUID(), payload: { v: 1, value: 'blocker' } });
      await processor.until(() => processor.processed.length === 1);
      const waitingId = randomUUID();
      await harness.queue.enqueue({ queue: queueName, id: waitingId, payload: { v: 1, value: 'removed' } });
      expect(await harness.queue.removeWaiting(queueName, waitingId)).toBe(true);
      expect(await harness.queue.removeWaiting(queueName, randomUUID())).toBe(false);
      await harness.queue.enqueue({ queue: queueName, id: randomUUID(), payload: { v: 1, value: 'after' } });
      release();
      await processor.until(() => processor.processed.length === 2);
      expect(processor.processed.map((p) => p.value)).toEqual(['blocker', 'after']);
    });
  });
}
