import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { type JobContext, type JobProcessor, type JobQueue, UnrecoverableJobError } from '../job-queue.port.js';

/** A queue plus whatever runs its jobs in this adapter (in-process runner, or a BullMQ worker). */
export interface JobQueueHarness {
  queue: JobQueue;
  startProcessing(processor: JobProcessor): Promise<void>;
  /** How many progress watchers the adapter still holds. */
  watcherCount(): number;
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

/** Polls until `condition` holds; throws after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Records what a progress watcher receives. */
function watch(progress: Observable<Record<string, unknown>>) {
  const received: Record<string, unknown>[] = [];
  const subscription = progress.subscribe((report) => received.push(report));
  return { received, stop: () => subscription.unsubscribe() };
}

/** A gate a job waits on until the test opens it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
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

    it('passes its health check while it can take jobs', async () => {
      await expect(harness.queue.check()).resolves.toBeUndefined();
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

    it('lets a watcher subscribed before the job runs receive every report in order, even back to back', async () => {
      const finish = gate();
      const processor = new RecordingProcessor(queueName, async (_, context) => {
        for (let batch = 1; batch <= 5; batch += 1) await context.reportProgress({ batch });
        await finish.opened;
      });
      await harness.startProcessing(processor);
      const id = randomUUID();
      const watcher = watch(harness.queue.watchProgress(queueName, id));
      try {
        await harness.queue.enqueue({ queue: queueName, id, payload: { v: 1, value: 'reporting' } });
        await until(() => watcher.received.length === 5);
        expect(watcher.received).toEqual([1, 2, 3, 4, 5].map((batch) => ({ batch })));
      } finally {
        watcher.stop();
        finish.open();
      }
    });

    it('gives a watcher subscribed mid-job the latest report first, then the later ones', async () => {
      const resume = gate();
      const finish = gate();
      const processor = new RecordingProcessor(queueName, async (_, context) => {
        await context.reportProgress({ batch: 1 });
        await context.reportProgress({ batch: 2 });
        await resume.opened;
        await context.reportProgress({ batch: 3 });
        await finish.opened;
      });
      await harness.startProcessing(processor);
      const id = randomUUID();
      await harness.queue.enqueue({ queue: queueName, id, payload: { v: 1, value: 'reporting' } });
      let watcher: ReturnType<typeof watch> | null = null;
      try {
        await until(() => processor.processed.length === 1);
        const reported = watch(harness.queue.watchProgress(queueName, id));
        await until(() => reported.received.at(-1)?.batch === 2);
        reported.stop();
        watcher = watch(harness.queue.watchProgress(queueName, id));
        const late = watcher;
        await until(() => late.received.length === 1);
        resume.open();
        await until(() => late.received.length === 2);
        expect(late.received).toEqual([{ batch: 2 }, { batch: 3 }]);
      } finally {
        watcher?.stop();
        resume.open();
        finish.open();
      }
    });

    it('stops delivering reports to a watcher that unsubscribed, and keeps no watcher once all left', async () => {
      const resume = gate();
      const finish = gate();
      const processor = new RecordingProcessor(queueName, async (_, context) => {
        await context.reportProgress({ batch: 1 });
        await resume.opened;
        await context.reportProgress({ batch: 2 });
        await finish.opened;
      });
      await harness.startProcessing(processor);
      const id = randomUUID();
      const leaving = watch(harness.queue.watchProgress(queueName, id));
      const staying = watch(harness.queue.watchProgress(queueName, id));
      try {
        await harness.queue.enqueue({ queue: queueName, id, payload: { v: 1, value: 'reporting' } });
        await until(() => leaving.received.length === 1 && staying.received.length === 1);
        leaving.stop();
        resume.open();
        await until(() => staying.received.length === 2);
        staying.stop();
        expect(leaving.received).toEqual([{ batch: 1 }]);
        expect(staying.received).toEqual([{ batch: 1 }, { batch: 2 }]);
        expect(harness.watcherCount()).toBe(0);
      } finally {
        leaving.stop();
        staying.stop();
        resume.open();
        finish.open();
      }
    });

    it('tells whether a job is unknown, waiting or running, or ended, and since when', async () => {
      const running = gate();
      const processor = new RecordingProcessor(queueName, () => running.opened);
      const id = randomUUID();
      expect(await harness.queue.statusOf(queueName, id)).toEqual({ status: 'unknown' });
      await harness.queue.enqueue({ queue: queueName, id, payload: { v: 1, value: 'tracked' } });
      expect(await harness.queue.statusOf(queueName, id)).toEqual({ status: 'pending' });
      await harness.startProcessing(processor);
      await processor.until(() => processor.processed.length === 1);
      expect(await harness.queue.statusOf(queueName, id)).toEqual({ status: 'pending' });
      const beforeEnd = Date.now();
      running.open();
      let status = await harness.queue.statusOf(queueName, id);
      for (let tries = 0; status.status !== 'ended' && tries < 200; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        status = await harness.queue.statusOf(queueName, id);
      }
      expect(status).toEqual({ status: 'ended', endedAt: expect.any(Date) });
      expect((status as { endedAt: Date }).endedAt.getTime()).toBeGreaterThanOrEqual(beforeEnd - 1000);
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
