import { Logger } from '@nestjs/common';
import { isDependencyUnreachable } from '@diyml/core/pure';
import { type ConnectionOptions, type Job, Queue, QueueEvents, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { Observable } from 'rxjs';
import { ProgressWatchers } from '../progress-watchers.js';
import {
  DEFAULT_JOB_ATTEMPTS,
  type JobContext,
  type JobProcessor,
  JobQueue,
  type JobRequest,
  type JobStatus,
  NEVER_HANDED_BACK,
  UnrecoverableJobError,
} from '../job-queue.port.js';

export { redisConnection } from './redis-connection.js';

type ProgressWatcher = (progress: Record<string, unknown>, eventId: string) => void;

/**
 * Reads a job's progress and the id of the last event of its queue's stream in one step: BullMQ sets the progress
 * and appends its 'progress' event in one script, so the events after that id are exactly the later reports.
 */
const PROGRESS_SNAPSHOT = {
  name: 'diymlProgressSnapshot',
  numberOfKeys: 2,
  readOnly: true,
  lua: `local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
return {redis.call('HGET', KEYS[1], 'progress'), last[1] and last[1][1] or '0-0'}`,
};

/** Whether Redis stream id `a` ("ms-seq") comes after `b`. */
function isLaterEvent(a: string, b: string): boolean {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  return aMs !== bMs ? aMs > bMs : aSeq > bSeq;
}

function asProgress(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
}

/** A queue no job is added to, whose connection answers health checks (a read of a job that never exists). */
const HEALTH_CHECK_QUEUE = 'health-check';
const HEALTH_CHECK_TIMEOUT_MS = 1000;

/** The distributed job queue: BullMQ on Redis. The BullMQ job id is the job id, so adding twice is a no-op. */
export class BullmqJobQueue extends JobQueue {
  readonly outlivesProcess = true;
  private readonly logger = new Logger(BullmqJobQueue.name);
  private readonly queues = new Map<string, Queue>();
  /** One reader of each watched queue's event stream (a blocking Redis connection each), created on first watch. */
  private readonly events = new Map<string, QueueEvents>();
  /** The Redis clients (one per Queue) that know the PROGRESS_SNAPSHOT script. */
  private readonly scriptedClients = new WeakSet<object>();
  private readonly watchers = new ProgressWatchers<ProgressWatcher>();
  private closed = false;

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly prefix = 'diyml',
    private readonly attempts = DEFAULT_JOB_ATTEMPTS,
    /** How long close() waits for BullMQ to close before it drops the connections (see shutdownBudget). */
    private readonly closeGraceMs = REDIS_CLOSE_GRACE_MS,
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
    return asProgress((await this.queue(queue).getJob(id))?.progress);
  }

  /**
   * The latest progress from the job's hash, then the queue's 'progress' events (BullMQ QueueEvents) that came
   * after it: events that arrive before the hash is read are held, then the ones it already covers are dropped.
   */
  watchProgress(queue: string, id: string): Observable<Record<string, unknown>> {
    const key = `${queue}:${id}`;
    return new Observable((subscriber) => {
      let held: [Record<string, unknown>, string][] | null = [];
      let after = '';
      const watcher: ProgressWatcher = (progress, eventId) => {
        if (held) held.push([progress, eventId]);
        else if (isLaterEvent(eventId, after)) subscriber.next(progress);
      };
      const unwatch = this.watchers.add(key, watcher);
      this.progressSnapshot(queue, id).then(
        (snapshot) => {
          const early = held ?? [];
          held = null;
          after = snapshot.lastEventId;
          if (snapshot.progress) subscriber.next(snapshot.progress);
          for (const [progress, eventId] of early) watcher(progress, eventId);
        },
        (error: unknown) => subscriber.error(error),
      );
      return unwatch;
    });
  }

  /** How many progress watchers are subscribed, over all jobs. */
  watcherCount(): number {
    return this.watchers.count();
  }

  async statusOf(queue: string, id: string): Promise<JobStatus> {
    // The state first: once it says ended, the job's hash already holds when (read after, never before it is set).
    const state = await this.queue(queue).getJobState(id);
    if (state === 'unknown') return { status: 'unknown' };
    if (state !== 'completed' && state !== 'failed') return { status: 'pending' };
    const job = await this.queue(queue).getJob(id);
    // Gone between the two reads (expired or removed): the queue no longer knows it.
    return job ? { status: 'ended', endedAt: new Date(Number(job.finishedOn)) } : { status: 'unknown' };
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

  /**
   * One read from Redis, bounded: commands wait for Redis to come back rather than fail (maxRetriesPerRequest
   * null, which workers need), so a read unanswered for a second is the sign that Redis is down.
   */
  async check(): Promise<void> {
    const read = this.queue(HEALTH_CHECK_QUEUE).getJob(HEALTH_CHECK_QUEUE);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`)),
        HEALTH_CHECK_TIMEOUT_MS,
      );
    });
    read.catch(() => {}); // answered after the timeout, or failed after it: nobody waits any more
    try {
      await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.events.values(), ...this.queues.values()];
    this.events.clear();
    this.queues.clear();
    await closeWithinGrace(
      'The job queue',
      Promise.all(clients.map((client) => client.close())),
      () => Promise.all(clients.map((client) => client.disconnect())),
      this.logger,
      this.closeGraceMs,
    );
  }

  /**
   * The job's latest progress and the id of the last event in its queue's stream, then the queue's event reader
   * (created here, starting at that id, if the queue had none): every later report reaches the reader.
   */
  private async progressSnapshot(
    queue: string,
    id: string,
  ): Promise<{ progress: Record<string, unknown> | null; lastEventId: string }> {
    const bullQueue = this.queue(queue);
    const client = await bullQueue.getBackend().client;
    if (!this.scriptedClients.has(client)) {
      client.defineCommand(PROGRESS_SNAPSHOT.name, PROGRESS_SNAPSHOT);
      this.scriptedClients.add(client);
    }
    const [progress, lastEventId] = (await client.runCommand(PROGRESS_SNAPSHOT.name, [
      bullQueue.toKey(id),
      bullQueue.keys.events,
    ])) as [string | null, string];
    this.startReadingEvents(queue, lastEventId);
    return { progress: progress === null ? null : asProgress(JSON.parse(progress)), lastEventId };
  }

  /** Starts at `lastEventId`, not at whatever is last once its blocking read begins, so it misses nothing after it. */
  private startReadingEvents(queue: string, lastEventId: string): void {
    if (this.closed || this.events.has(queue)) return;
    const reader = new QueueEvents(queue, { connection: this.connection, prefix: this.prefix, lastEventId });
    reader.on('progress', ({ jobId, data }, eventId) => {
      const progress = asProgress(data);
      if (!progress) return;
      for (const watcher of this.watchers.of(`${queue}:${jobId}`)) watcher(progress, eventId);
    });
    reader.on('error', (error) => this.logger.error(`BullMQ event reader error: ${error.message}`));
    this.events.set(queue, reader);
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
  /** First pause before a job that failed because the database or Redis did not answer runs again (doubling to 30 s). */
  outagePauseMs?: number;
  /**
   * How long close() lets running jobs finish before it hands them back to the queue, where another worker takes
   * them at once, without using up an attempt (see shutdownBudget). Unset: close() waits as long as they run.
   */
  handBackAfterMs?: number;
  /**
   * How long close() waits for the processors of the jobs handed back to stop, for Redis to take them back, then for
   * BullMQ to close (REDIS_CLOSE_GRACE_MS).
   */
  closeGraceMs?: number;
}

const OUTAGE_MAX_PAUSE_MS = 30_000;

/**
 * How long closing waits, once no job runs, for BullMQ to record the jobs' ends in Redis and close its connections.
 * BullMQ waits for its blocking connection's 'end', which ioredis never emits for a client waiting to reconnect
 * (bullmq#4656, ioredis#1247): while Redis is away, and just after it came back, Worker.close() never settles.
 */
export const REDIS_CLOSE_GRACE_MS = 5000;

/**
 * How a process spends its SHUTDOWN_TIMEOUT_SECONDS on BullMQ, so that it is done before the process is ended anyway
 * (exitOnSignalIfStillClosingAfter): running jobs get most of it; four graces are kept for what follows them, in
 * turn: the processors of the jobs still running stop (JobContext.handedBack), the jobs go back to the queue, the
 * worker closes, the queue closes (JobRunner's shutdown hooks).
 */
export function shutdownBudget(shutdownTimeoutMs: number): { handBackAfterMs: number; closeGraceMs: number } {
  // A tenth, at most REDIS_CLOSE_GRACE_MS: a Redis that answers needs milliseconds, one that does not never will.
  const closeGraceMs = Math.min(REDIS_CLOSE_GRACE_MS, shutdownTimeoutMs / 10);
  return { handBackAfterMs: shutdownTimeoutMs - 4 * closeGraceMs, closeGraceMs };
}

/** Whether `promise` settled within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const outcome = await Promise.race([
    promise.then(
      () => 'settled',
      () => 'settled',
    ),
    sleep(ms, 'timed out', { signal: timer.signal }),
  ]);
  timer.abort();
  return outcome === 'settled';
}

/**
 * Waits up to `graceMs` for `closing` (a BullMQ close); past that, `disconnect` drops the connections and their
 * reconnect timers. BullMQ's disconnect waits for 'end' too, so it is not awaited either.
 */
async function closeWithinGrace(
  what: string,
  closing: Promise<unknown>,
  disconnect: () => Promise<unknown>,
  logger: Logger,
  graceMs: number,
): Promise<void> {
  closing.catch((error: unknown) => logger.error(`Closing ${what} failed: ${String(error)}`));
  if (await settlesWithin(closing, graceMs)) return;
  logger.warn(`${what} did not close within ${graceMs} ms (Redis does not answer); dropping its connections`);
  disconnect().catch(() => {}); // settles on an 'end' that may never come: see REDIS_CLOSE_GRACE_MS
}

/** A job this worker took, until BullMQ may record its end: it ended, or was handed back. */
interface RunningJob {
  readonly id: string;
  /** Aborted to hand the job back to the queue; its processor's outcome is then ignored. */
  readonly handBack: AbortController;
  readonly settled: Promise<void>;
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
  private readonly running = new Set<RunningJob>();
  /** Aborted by close(): also ends the pause before a job whose dependency did not answer runs again. */
  private readonly closing = new AbortController();
  /** Set once close() hands back the running jobs: a job BullMQ hands over after that goes back at once too. */
  private handingBack = false;
  private readonly handBackAfterMs: number | undefined;
  private readonly closeGraceMs: number;

  constructor(processor: JobProcessor, connection: ConnectionOptions, options: BullmqJobWorkerOptions = {}) {
    const maxWorkerLosses = options.maxWorkerLosses ?? MAX_WORKER_LOSSES;
    this.handBackAfterMs = options.handBackAfterMs;
    this.closeGraceMs = options.closeGraceMs ?? REDIS_CLOSE_GRACE_MS;
    const contextOf = (job: Job, handedBack = NEVER_HANDED_BACK): JobContext => ({
      id: job.id!,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      reportProgress: (progress: Record<string, unknown>) => job.updateProgress(progress),
      handedBack,
    });
    this.worker = new Worker(
      processor.queue,
      (job, token) => {
        const handBack = new AbortController();
        const context = contextOf(job, handBack.signal);
        // Once handed back, the job's progress is the next worker's to report.
        const reportProgress = async (progress: Record<string, unknown>) => {
          if (!handBack.signal.aborted) await context.reportProgress(progress);
        };
        const run = this.runUnlessHandedBack(processor, job, token, { ...context, reportProgress }, handBack, options);
        const runningJob: RunningJob = { id: job.id!, handBack, settled: run.then(noop, noop) };
        this.running.add(runningJob);
        void runningJob.settled.finally(() => this.running.delete(runningJob));
        return run;
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

  /**
   * Runs the job until it ends or `handBack` is aborted. Handed back, it waits in the queue again, first in line,
   * with its attempts untouched (BullMQ's manual retry: Job.moveToWait, then WaitingError so BullMQ neither completes
   * nor fails it), once its processor stopped (JobContext.handedBack), or `closeGraceMs` later: a processor still
   * running then runs on here, and what it does no longer counts.
   */
  private async runUnlessHandedBack(
    processor: JobProcessor,
    job: Job,
    token: string | undefined,
    context: JobContext,
    handBack: AbortController,
    options: BullmqJobWorkerOptions,
  ): Promise<void> {
    if (!this.handingBack) {
      const handedBack = new Promise<'handed back'>((resolve) =>
        handBack.signal.addEventListener('abort', () => resolve('handed back'), { once: true }),
      );
      const run = this.run(processor, job, context, options.outagePauseMs ?? 1000, handBack);
      try {
        await Promise.race([run, handedBack]);
      } catch (error) {
        if (!handBack.signal.aborted) throw error;
      }
      if (!handBack.signal.aborted) return;
      // Before another worker takes the job, so that what the processor records of its stop comes first.
      if (!(await settlesWithin(run, this.closeGraceMs)))
        this.logger.warn(`Job ${job.id} did not stop within ${this.closeGraceMs} ms of being handed back`);
    }
    // A job Redis does not take back (its lock lost, Redis away) goes back once its lock expires, as a dead worker's.
    const movedBack = job.moveToWait(token);
    movedBack.catch((error: unknown) =>
      this.logger.warn(`Job ${job.id} could not be handed back (${String(error)}); its lock expires`),
    );
    if (!(await settlesWithin(movedBack, this.closeGraceMs)))
      this.logger.warn(`Redis did not take job ${job.id} back within ${this.closeGraceMs} ms; its lock expires`);
    throw new WaitingError();
  }

  private async run(
    processor: JobProcessor,
    job: Job,
    context: JobContext,
    outagePauseMs: number,
    handBack: AbortController,
  ): Promise<void> {
    try {
      await this.processThroughOutages(processor, job.data, context, outagePauseMs, handBack);
    } catch (error) {
      if (handBack.signal.aborted) throw error;
      const failure = error instanceof Error ? error : new Error(String(error));
      const final = failure instanceof UnrecoverableJobError || context.attempt >= context.maxAttempts;
      if (final) await processor.failed(job.data, failure, context);
      throw failure instanceof UnrecoverableJobError ? new UnrecoverableError(failure.message) : failure;
    }
  }

  /**
   * Runs the job; while it fails because the database or Redis does not answer, runs it again after a pause,
   * without using one of its attempts: a restart of PostgreSQL must not fail a training (BullMQ's attempts and
   * backoff are spent in a second), nor leave it unrecorded (recording the failure needs the database too).
   * Closing ends the pause: the job is handed back, for a worker that stays.
   */
  private async processThroughOutages(
    processor: JobProcessor,
    data: unknown,
    context: JobContext,
    firstPauseMs: number,
    handBack: AbortController,
  ): Promise<void> {
    for (let pauseMs = firstPauseMs; ; pauseMs = Math.min(pauseMs * 2, OUTAGE_MAX_PAUSE_MS)) {
      try {
        return await processor.process(data, context);
      } catch (error) {
        if (!isDependencyUnreachable(error)) throw error;
        if (!this.closing.signal.aborted) {
          this.logger.warn(
            `Job ${context.id}: a dependency does not answer (${String((error as { message?: unknown }).message)}); running it again in ${pauseMs} ms`,
          );
          const resumed = await sleep(pauseMs, 'resumed', { signal: this.closing.signal }).catch(() => 'closing');
          if (resumed === 'resumed') continue;
        }
        this.logger.warn(`Job ${context.id}: a dependency does not answer and the worker closes; handing the job back`);
        handBack.abort();
        throw error;
      }
    }
  }

  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /**
   * Takes no new job, lets the running ones finish (for `handBackAfterMs`, then hands them back), then closes the
   * connections, also while Redis does not answer: a job whose end Redis could not record goes back to the queue
   * once its lock expires, and its processor finds its work done.
   */
  async close(): Promise<void> {
    this.closing.abort();
    const closing = this.worker.close();
    await this.endOrHandBackRunningJobs();
    await closeWithinGrace(
      `The "${this.worker.name}" worker`,
      closing,
      () => this.worker.disconnect(),
      this.logger,
      this.closeGraceMs,
    );
    await Promise.all(this.reporting);
  }

  private async endOrHandBackRunningJobs(): Promise<void> {
    const timer = new AbortController();
    const handBackTime =
      this.handBackAfterMs === undefined
        ? new Promise<never>(noop)
        : sleep(this.handBackAfterMs, 'hand back', { signal: timer.signal }).catch(noop);
    // A job BullMQ was handing over as the close began starts after it.
    while (this.running.size > 0) {
      const ended = Promise.all([...this.running].map((job) => job.settled));
      if ((await Promise.race([ended, handBackTime])) === 'hand back') break;
    }
    timer.abort();
    if (this.running.size === 0) return;
    this.handingBack = true;
    const handedBack = [...this.running];
    this.logger.warn(
      `Handing back jobs still running ${this.handBackAfterMs} ms into the shutdown, for another worker: ${handedBack.map((job) => job.id).join(', ')}`,
    );
    for (const job of handedBack) job.handBack.abort();
    await Promise.all(handedBack.map((job) => job.settled));
  }
}

function noop(): void {}
