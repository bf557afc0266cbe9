import { Logger } from '@nestjs/common';
import { type ConnectionOptions, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import {
  DEFAULT_JOB_ATTEMPTS,
  type JobProcessor,
  JobQueue,
  type JobRequest,
  UnrecoverableJobError,
} from '../job-queue.port.js';

export { redisConnection } from './redis-connection.js';

/** The distributed job queue: BullMQ on Redis. The BullMQ job id is the job id, so adding twice is a no-op. */
export class BullmqJobQueue extends JobQueue {
  readonly outlivesProcess = true;
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

  /** BullMQ keeps a job's progress (job.updateProgress) in its Redis hash, where any process reads it. */
  async progressOf(queue: string, id: string): Promise<Record<string, unknown> | null> {
    const progress = (await this.queue(queue).getJob(id))?.progress;
    return typeof progress === 'object' && progress !== null ? (progress as Record<string, unknown>) : null;
  }

  async removeWaiting(queue: string, id: string): Promise<boolean> {
    const job = await this.queue(queue).getJob(id);
    if (!job) return false;
    const state = await job.getState();
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
    // A worker may take the job between the two calls: BullMQ then keeps it (it is locked) and answers 0.
    return (await this.queue(queue).remove(id)) === 1;
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

/**
 * How many times a job may lose its worker (killed, out of memory, lock not renewed) and still be handed to
 * the processor again. BullMQ's default of 1 fails a job at its second loss without calling the processor,
 * so the processor could never record the outcome (a training iteration stayed `running`). This is above
 * MAX_TRAINING_ATTEMPTS, so the processor, which counts its own attempts, decides first.
 */
export const MAX_WORKER_LOSSES = 4;
/** BullMQ's reason for a job that lost its worker more than `maxStalledCount` times. */
const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

export interface BullmqJobWorkerOptions {
  prefix?: string;
  /** Recorded on each job it takes (BullMQ's processedBy), to tell which worker runs a job. */
  name?: string;
  concurrency?: number;
  /** How long a worker holds a job without renewing its lock before another worker may take it over. */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died. */
  stalledIntervalMs?: number;
  maxWorkerLosses?: number;
}

/**
 * Runs a JobProcessor for a BullMQ queue (in apps/worker, or in tests). A job whose worker died goes back to
 * the queue and is processed again, up to `maxWorkerLosses` times; past that it is failed, and the
 * processor's `failed` still runs so the job's outcome is recorded.
 */
export class BullmqJobWorker {
  private readonly logger = new Logger(BullmqJobWorker.name);
  private readonly worker: Worker;
  private readonly reporting = new Set<Promise<void>>();

  constructor(processor: JobProcessor, connection: ConnectionOptions, options: BullmqJobWorkerOptions = {}) {
    const maxWorkerLosses = options.maxWorkerLosses ?? MAX_WORKER_LOSSES;
    const contextOf = (job: Job) => ({
      id: job.id!,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      reportProgress: (progress: Record<string, unknown>) => job.updateProgress(progress),
    });
    this.worker = new Worker(
      processor.queue,
      async (job) => {
        const context = contextOf(job);
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
        name: options.name,
        concurrency: options.concurrency ?? 1,
        // Training holds the event loop of its worker thread, not this one, but epochs can be long.
        lockDuration: options.lockDurationMs ?? 60_000,
        stalledInterval: options.stalledIntervalMs ?? 30_000,
        maxStalledCount: maxWorkerLosses,
      },
    );
    // BullMQ fails a job that stalled too often without calling the processor: report it here instead.
    this.worker.on('failed', (job, error) => {
      if (!job || error.message !== STALLED_TOO_OFTEN) return;
      const losses = maxWorkerLosses + 1;
      const failure = new Error(`its worker stopped ${losses} ${losses === 1 ? 'time' : 'times'} while running it`);
      const report = processor
        .failed(job.data, failure, contextOf(job))
        .catch((reportError: unknown) =>
          this.logger.error(`Recording the failure of job ${job.id} failed: ${String(reportError)}`),
        )
        .finally(() => this.reporting.delete(report));
      this.reporting.add(report);
    });
    this.worker.on('error', (error) => this.logger.error(`BullMQ worker error: ${error.message}`));
  }

  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker.close();
    await Promise.all(this.reporting);
  }
}
