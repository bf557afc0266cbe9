import { Logger } from '@nestjs/common';
import { type ConnectionOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import {
  DEFAULT_JOB_ATTEMPTS,
  type JobProcessor,
  JobQueue,
  type JobRequest,
  UnrecoverableJobError,
} from '../job-queue.port.js';

export function redisConnection(url: string): ConnectionOptions {
  // BullMQ workers block on Redis; they must not give up on a request.
  return { url, maxRetriesPerRequest: null };
}

/** The distributed job queue: BullMQ on Redis. The BullMQ job id is the job id, so adding twice is a no-op. */
export class BullmqJobQueue extends JobQueue {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly prefix = 'diyml',
    private readonly attempts = DEFAULT_JOB_ATTEMPTS,
  ) {
    super();
  }

  async enqueue<TPayload extends object>(job: JobRequest<TPayload>): Promise<'enqueued' | 'duplicate'> {
    const queue = this.queue(job.queue);
    if (await queue.getJob(job.id)) return 'duplicate';
    await queue.add(job.queue, job.payload, {
      jobId: job.id,
      attempts: this.attempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    });
    return 'enqueued';
  }

  async removeWaiting(queue: string, id: string): Promise<boolean> {
    const job = await this.queue(queue).getJob(id);
    if (!job) return false;
    const state = await job.getState();
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
    await job.remove();
    return true;
  }

  /** Removes every job of a queue: for tests. */
  async obliterate(queue: string): Promise<void> {
    await this.queue(queue).obliterate({ force: true });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }
}

/** Runs a JobProcessor for a BullMQ queue (in apps/worker, or in tests). Stalled jobs are retried by BullMQ. */
export class BullmqJobWorker {
  private readonly logger = new Logger(BullmqJobWorker.name);
  private readonly worker: Worker;

  constructor(
    processor: JobProcessor,
    connection: ConnectionOptions,
    options: { prefix?: string; concurrency?: number } = {},
  ) {
    this.worker = new Worker(
      processor.queue,
      async (job) => {
        const context = {
          id: job.id!,
          attempt: job.attemptsMade + 1,
          maxAttempts: job.opts.attempts ?? 1,
          reportProgress: (progress: Record<string, unknown>) => job.updateProgress(progress),
        };
        try {
          await processor.process(job.data, context);
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          const final = failure instanceof UnrecoverableJobError || context.attempt >= context.maxAttempts;
          if (final) await processor.failed(job.data, failure, context);
          throw failure instanceof UnrecoverableJobError ? new UnrecoverableError(failure.message) : failure;
        }
      },
      {
        connection,
        prefix: options.prefix ?? 'diyml',
        concurrency: options.concurrency ?? 1,
        // Training holds the event loop of its worker thread, not this one, but epochs can be long.
        lockDuration: 60_000,
      },
    );
    this.worker.on('error', (error) => this.logger.error(`BullMQ worker error: ${error.message}`));
  }

  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
