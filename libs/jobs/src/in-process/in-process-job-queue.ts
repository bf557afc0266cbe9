import { Logger } from '@nestjs/common';
import { Observable } from 'rxjs';
import { ProgressWatchers } from '../progress-watchers.js';
import {
  DEFAULT_JOB_ATTEMPTS,
  type JobContext,
  NEVER_HANDED_BACK,
  type JobProcessor,
  JobQueue,
  type JobRequest,
  type JobStatus,
  UnrecoverableJobError,
} from '../job-queue.port.js';

interface Lane {
  waiting: JobRequest[];
  running: boolean;
}

/**
 * The embedded job queue: jobs run in this process, one at a time per queue, in arrival order. Heavy work
 * (training) moves off the event loop inside the processor, on a worker thread. Jobs do not outlive the
 * process: on start, the owning context re-queues what its events say is unfinished.
 */
export class InProcessJobQueue extends JobQueue {
  readonly outlivesProcess = false;
  private readonly logger = new Logger(InProcessJobQueue.name);
  private readonly processors = new Map<string, JobProcessor>();
  private readonly lanes = new Map<string, Lane>();
  private readonly known = new Set<string>();
  /** The latest progress of each running job, by `queue:id`. */
  private readonly progress = new Map<string, Record<string, unknown>>();
  private readonly watchers = new ProgressWatchers<(progress: Record<string, unknown>) => void>();
  private readonly runningJobs = new Set<string>();
  /** When each job of this process ended, by `queue:id`. */
  private readonly endedAt = new Map<string, Date>();
  private readonly idle = new Set<() => void>();
  private closed = false;

  constructor(private readonly maxAttempts = DEFAULT_JOB_ATTEMPTS) {
    super();
  }

  register(processor: JobProcessor): void {
    this.processors.set(processor.queue, processor);
    this.pump(processor.queue);
  }

  async enqueue<TPayload extends object>(job: JobRequest<TPayload>): Promise<'enqueued' | 'duplicate'> {
    const key = `${job.queue}:${job.id}`;
    if (this.known.has(key)) return 'duplicate';
    this.known.add(key);
    this.lane(job.queue).waiting.push(job);
    queueMicrotask(() => this.pump(job.queue));
    return 'enqueued';
  }

  async progressOf(queue: string, id: string): Promise<Record<string, unknown> | null> {
    return this.progress.get(`${queue}:${id}`) ?? null;
  }

  watchProgress(queue: string, id: string): Observable<Record<string, unknown>> {
    const key = `${queue}:${id}`;
    return new Observable((subscriber) => {
      const latest = this.progress.get(key);
      if (latest) subscriber.next(latest);
      return this.watchers.add(key, (progress) => subscriber.next(progress));
    });
  }

  /** How many progress watchers are subscribed, over all jobs. */
  watcherCount(): number {
    return this.watchers.count();
  }

  async statusOf(queue: string, id: string): Promise<JobStatus> {
    const key = `${queue}:${id}`;
    const endedAt = this.endedAt.get(key);
    if (endedAt) return { status: 'ended', endedAt };
    // A removed waiting job stays known (it is not run again) but is in no lane any more: the queue lost it.
    const waiting = this.lanes.get(queue)?.waiting.some((job) => job.id === id) ?? false;
    return waiting || this.runningJobs.has(key) ? { status: 'pending' } : { status: 'unknown' };
  }

  async removeWaiting(queue: string, id: string): Promise<boolean> {
    const lane = this.lane(queue);
    const index = lane.waiting.findIndex((job) => job.id === id);
    if (index < 0) return false;
    lane.waiting.splice(index, 1);
    return true;
  }

  /** Resolves when no job is waiting or running. */
  async drain(): Promise<void> {
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /** Jobs wait in this process's memory: the queue answers while the process does. */
  async check(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes.values()) lane.waiting.length = 0;
    await this.drain();
  }

  private lane(queue: string): Lane {
    let lane = this.lanes.get(queue);
    if (!lane) {
      lane = { waiting: [], running: false };
      this.lanes.set(queue, lane);
    }
    return lane;
  }

  private isIdle(): boolean {
    return [...this.lanes.values()].every((lane) => !lane.running && lane.waiting.length === 0);
  }

  private pump(queue: string): void {
    const lane = this.lane(queue);
    const processor = this.processors.get(queue);
    if (lane.running || !processor || this.closed) return this.notifyIdle();
    const job = lane.waiting.shift();
    if (!job) return this.notifyIdle();
    lane.running = true;
    void this.run(processor, job).finally(() => {
      lane.running = false;
      this.pump(queue);
    });
  }

  private async run(processor: JobProcessor, job: JobRequest): Promise<void> {
    const key = `${job.queue}:${job.id}`;
    this.runningJobs.add(key);
    try {
      await this.runAttempts(processor, job, key);
    } finally {
      this.endedAt.set(key, new Date());
      this.runningJobs.delete(key);
      this.progress.delete(key);
    }
  }

  private async runAttempts(processor: JobProcessor, job: JobRequest, key: string): Promise<void> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      const context: JobContext = {
        id: job.id,
        attempt,
        maxAttempts: this.maxAttempts,
        handedBack: NEVER_HANDED_BACK,
        reportProgress: async (progress) => {
          // A report arriving once the job ended would be kept for good.
          if (!this.runningJobs.has(key)) return;
          this.progress.set(key, progress);
          for (const watcher of this.watchers.of(key)) watcher(progress);
        },
      };
      try {
        await processor.process(job.payload, context);
        return;
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        const final = attempt === this.maxAttempts || failure instanceof UnrecoverableJobError;
        this.logger.warn(`Job ${job.queue}:${job.id} attempt ${attempt} failed: ${failure.message}`);
        if (final) {
          await processor
            .failed(job.payload, failure, context)
            .catch((reportError: unknown) =>
              this.logger.error(`Recording the failure of ${job.id} failed: ${String(reportError)}`),
            );
          return;
        }
      }
    }
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }
}
