import { DiscoveryService } from '@nestjs/core';
import type { Observable } from 'rxjs';

/** A unit of background work. `id` deduplicates: the same id is run at most once (job id = iteration id). */
export interface JobRequest<TPayload extends object = object> {
  readonly queue: string;
  readonly id: string;
  /** Versioned, so a worker of a newer release can still read what an older api queued. */
  readonly payload: TPayload & { v: number };
}

export interface JobContext {
  readonly id: string;
  /** 1 for the first try. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Transient progress for watchers (see JobQueue.progressOf and watchProgress), not a record: the latest report replaces the last. */
  reportProgress(progress: Record<string, unknown>): Promise<void>;
  /**
   * Aborted when a stopping worker hands the job back to the queue, where another worker runs it again on the same
   * attempt: stop, and record the interruption if it matters. The worker waits a little for that (shutdownBudget)
   * before another worker may take the job. Never aborted by the in-process queue.
   */
  readonly handedBack: AbortSignal;
}

/** The signal of a job that is never handed back (JobContext.handedBack). */
export const NEVER_HANDED_BACK: AbortSignal = new AbortController().signal;

/**
 * The code that does one kind of job. It records its own outcome as events; `failed` is called once when
 * the job will not be tried again (attempts used up, or an UnrecoverableJobError).
 */
export interface JobProcessor<TPayload = unknown> {
  readonly queue: string;
  process(payload: TPayload, context: JobContext): Promise<void>;
  failed(payload: TPayload, error: Error, context: JobContext): Promise<void>;
}

/** Marks a failure that a retry cannot fix (a bad dataset, an unknown architecture). */
export class UnrecoverableJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnrecoverableJobError';
  }
}

export const DEFAULT_JOB_ATTEMPTS = 2;

/**
 * Where a job is: waiting or running (`pending`), finished or failed for good (`ended`), or `unknown` to the queue:
 * never queued, or lost (Redis flushed, removed by hand, its ended record expired).
 */
export type JobStatus = { status: 'pending' } | { status: 'ended'; endedAt: Date } | { status: 'unknown' };

/** Where jobs wait for a worker. One contract suite checks every adapter. */
export abstract class JobQueue {
  /** Whether queued jobs survive the process that queued them (false: they are lost when it stops). */
  abstract readonly outlivesProcess: boolean;
  /** 'duplicate' when a job with this id is already known (waiting, running or done). */
  abstract enqueue<TPayload extends object>(job: JobRequest<TPayload>): Promise<'enqueued' | 'duplicate'>;
  /**
   * The latest progress a running job reported with JobContext.reportProgress, from whichever process runs it; null
   * before its first report. Transient: once the job ended an adapter may forget it.
   */
  abstract progressOf(queue: string, id: string): Promise<Record<string, unknown> | null>;
  /**
   * A job's progress as it is reported, from whichever process runs it: first the latest report (what progressOf
   * returns, if any), then every later report in order, however close together. Never completes on its own:
   * unsubscribe to stop watching. A watcher may subscribe before the job is queued.
   */
  abstract watchProgress(queue: string, id: string): Observable<Record<string, unknown>>;
  /** Where the job with this id is (see JobStatus). */
  abstract statusOf(queue: string, id: string): Promise<JobStatus>;
  /** Removes a job that has not started; false when it is running, finished or unknown. */
  abstract removeWaiting(queue: string, id: string): Promise<boolean>;
  /** Resolves when the queue can take jobs now (for /health); rejects, saying what does not answer, otherwise. */
  abstract check(): Promise<void>;
  abstract close(): Promise<void>;
}

/** Marks a provider as a JobProcessor, found by whichever runner executes jobs in this process. */
export const JobProcessorProvider = DiscoveryService.createDecorator<void>();
