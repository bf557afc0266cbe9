import { Worker, type WorkerOptions } from 'node:worker_threads';
import { releaseThreadShares } from './process-wide-gate.js';

/**
 * Starts a worker thread on a module. Built code runs the `.js` file directly; when the caller runs from
 * TypeScript sources (the test suite, the benchmarks), the thread first registers hooks that load `.ts` modules
 * (testing/typescript-thread-hooks.mjs). `preload` names packages the thread imports before those hooks: a large one
 * (h5wasm) loaded in seconds natively but took over a minute through a loader, and the module is then found loaded.
 * Once the thread stops, however it stops, what it held in the process-wide gates is given back.
 */
export function startWorkerThread(entry: URL, options: WorkerOptions = {}, preload: string[] = []): Worker {
  const worker = entry.pathname.endsWith('.ts')
    ? new Worker(typescriptBootstrap(entry, preload), { ...options, eval: true })
    : new Worker(entry, options);
  // Read now: a stopped worker's threadId reads -1.
  const { threadId } = worker;
  worker.once('exit', () => releaseThreadShares(threadId));
  return worker;
}

function typescriptBootstrap(entry: URL, preload: string[]): string {
  // An eval'd worker resolves bare specifiers from the working directory: the project root under test.
  const preloaded = `Promise.all(${JSON.stringify(preload)}.map((name) => import(name)))`;
  const hooks = new URL('./testing/typescript-thread-hooks.mjs', import.meta.url).href;
  return `${preloaded}.then(() => import(${JSON.stringify(hooks)})).then(() => import(${JSON.stringify(entry.href)}))`;
}

/** The sibling module of `importMetaUrl` named `name`, with the extension the caller itself runs with. */
export function siblingModule(importMetaUrl: string, name: string): URL {
  const extension = importMetaUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${extension}`, importMetaUrl);
}

export interface WorkerThreadPoolOptions {
  /** Idle threads kept warm at most; a thread given back when this many wait is closed. */
  maxIdle?: number;
  /** Runs a thread serves before it is closed rather than kept, bounding what a long-lived thread accumulates. */
  maxRunsPerThread?: number;
  /**
   * An idle thread unused this long (ms) is closed: a warm thread holds its own V8 heap and what its runs left in
   * it (30-45 MiB each), which a burst of imports would otherwise keep for the life of the process.
   */
  idleTimeoutMs?: number;
}

/** One request to a pooled thread that answers once (see WorkerThreadPool.request). */
export interface PooledRequest<Answer> {
  /** Whether the thread that gave `answer` is clean enough to serve the next run. */
  reusable(answer: Answer): boolean;
  /** The error of a run whose thread stopped before answering. */
  stopped(exitCode: number): Error;
  /** A run that can be cancelled: aborting `signal` rejects it with `error()`. */
  abort?: { signal: AbortSignal; error(): Error };
  /** Buffers moved to the thread rather than copied. */
  transfer?: ArrayBuffer[];
}

/**
 * Warm worker threads of one module: `acquire()` hands out an idle thread or starts one, `release()` takes it back
 * for the next run when it is known to be clean, else closes it. Idle threads do not keep the process alive.
 */
export class WorkerThreadPool {
  private readonly idle: Worker[] = [];
  private readonly runs = new WeakMap<Worker, number>();
  private readonly idleTimers = new Map<Worker, NodeJS.Timeout>();
  private readonly maxIdle: number;
  private readonly maxRunsPerThread: number;
  private readonly idleTimeoutMs: number;
  private threadsStarted = 0;

  constructor(
    private readonly start: () => Worker,
    options: WorkerThreadPoolOptions = {},
  ) {
    this.maxIdle = Math.max(0, options.maxIdle ?? 1);
    this.maxRunsPerThread = Math.max(1, options.maxRunsPerThread ?? 50);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  }

  /** Threads started since the pool was made (a reused thread counts once). */
  get started(): number {
    return this.threadsStarted;
  }

  acquire(): Worker {
    const warm = this.idle.pop();
    if (warm) {
      clearTimeout(this.idleTimers.get(warm));
      this.idleTimers.delete(warm);
      warm.ref();
      return warm;
    }
    const worker = this.start();
    this.threadsStarted++;
    // A thread that stops while idle leaves the pool; one in use tells its run through the run's own listeners.
    worker.once('exit', () => this.forget(worker));
    return worker;
  }

  /** Gives `worker` back: kept for the next run when `reusable` and there is room, else closed. */
  release(worker: Worker, reusable: boolean): void {
    const runs = (this.runs.get(worker) ?? 0) + 1;
    this.runs.set(worker, runs);
    if (!reusable || runs >= this.maxRunsPerThread || this.idle.length >= this.maxIdle) {
      void worker.terminate();
      return;
    }
    worker.unref();
    this.idle.push(worker);
    const close = () => {
      this.forget(worker);
      void worker.terminate();
    };
    this.idleTimers.set(worker, setTimeout(close, this.idleTimeoutMs).unref());
  }

  /**
   * Sends `message` to a thread of the pool and resolves with the thread's one answer. The thread goes back to the
   * pool when `reusable(answer)` says its run left it clean; a thread that fails, stops or is aborted is closed.
   * Aborting the run's signal closes the thread at once and rejects with its error; once the answer is in, the signal
   * no longer reaches the thread, which may be serving another run.
   */
  request<Answer>(message: unknown, options: PooledRequest<Answer>): Promise<Answer> {
    const { abort } = options;
    if (abort?.signal.aborted) return Promise.reject(abort.error());
    const worker = this.acquire();
    let reusable = false;
    let onMessage: (answer: Answer) => void = () => undefined;
    let onError: (error: Error) => void = () => undefined;
    let onExit: (code: number) => void = () => undefined;
    let onAbort: () => void = () => undefined;
    return new Promise<Answer>((resolve, reject) => {
      onMessage = (answer) => {
        reusable = options.reusable(answer);
        resolve(answer);
      };
      onError = reject;
      onExit = (code) => reject(options.stopped(code));
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      if (abort) {
        onAbort = () => reject(abort.error());
        abort.signal.addEventListener('abort', onAbort, { once: true });
      }
      worker.postMessage(message, options.transfer);
    }).finally(() => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      abort?.signal.removeEventListener('abort', onAbort);
      this.release(worker, reusable);
    });
  }

  /** Closes the idle threads (threads in use are closed when released). */
  async closeIdle(): Promise<void> {
    const closing = this.idle.splice(0);
    for (const worker of closing) clearTimeout(this.idleTimers.get(worker));
    this.idleTimers.clear();
    await Promise.all(closing.map((worker) => worker.terminate()));
  }

  private forget(worker: Worker): void {
    clearTimeout(this.idleTimers.get(worker));
    this.idleTimers.delete(worker);
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
  }
}
