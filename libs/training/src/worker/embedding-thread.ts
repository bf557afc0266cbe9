import { createHash } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorkerThread } from '@diyml/core/pure';
import type { BackboneDescriptor } from '@diyml/ml';
import type { EmbedRequest, EmbedResult, FromEmbeddingThread } from './embedding-protocol.js';

export class EmbeddingCancelled extends Error {
  constructor() {
    super('computing embeddings was cancelled');
  }
}

export interface EmbeddingThreadPoolOptions {
  /** Warm threads kept at most, one per backbone; the least recently used is closed to make room. */
  maxThreads?: number;
  /** A thread with nothing to do for this long is closed, releasing its backbone. */
  idleMs?: number;
}

/**
 * Two warm threads: a project's backbone and, say, an imported model another project embeds with. Each holds its
 * backbone twice, as a tfjs model and as an onnxruntime session, plus the thread's own heaps (the RSS of a warm
 * MobileNetV2 thread is a figure of bench/backbone-embedding).
 */
const DEFAULT_MAX_THREADS = 2;
const DEFAULT_IDLE_MS = 60_000;

interface WarmThread {
  key: string;
  worker: Worker;
  /** Requests on this thread run one after another: the end of the last one queued. */
  tail: Promise<unknown>;
  pending: number;
  /** Left the pool to make room: closed once its pending requests are done. */
  retiring: boolean;
  closed: boolean;
  idleTimer?: NodeJS.Timeout;
}

/**
 * Embedding threads kept warm per backbone: loading MobileNetV2 (~1.4 s) and building its onnxruntime runner (~1 s)
 * is paid by the first request only; later requests for the same backbone (background embeddings after each
 * upload, test runs, label suggestions) go straight to the forward passes. Bounded: at most `maxThreads` threads
 * (least recently used closed first), each closed after `idleMs` without work. Idle threads do not keep the process
 * alive. Aborting a request stops its thread at once (and rejects with EmbeddingCancelled); the next request starts
 * a new one.
 */
export class EmbeddingThreadPool {
  private readonly threads = new Map<string, WarmThread>();
  private readonly maxThreads: number;
  private readonly idleMs: number;
  /** Threads started since the pool was made (each loaded its backbone once). */
  started = 0;

  constructor(options: EmbeddingThreadPoolOptions = {}) {
    this.maxThreads = Math.max(1, options.maxThreads ?? DEFAULT_MAX_THREADS);
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  }

  /** Threads open now (warm or working). */
  get openThreads(): number {
    return this.threads.size;
  }

  embed(request: Omit<EmbedRequest, 'type'>, signal?: AbortSignal): Promise<EmbedResult> {
    if (signal?.aborted) return Promise.reject(new EmbeddingCancelled());
    const thread = this.threadFor(backboneKey(request.backbone, request.cacheDirectory));
    thread.pending++;
    clearTimeout(thread.idleTimer);
    const run = thread.tail.then(() =>
      thread.closed ? this.embed(request, signal) : this.runOn(thread, request, signal),
    );
    thread.tail = run.catch(() => undefined);
    return run.finally(() => {
      thread.pending--;
      if (thread.pending > 0 || thread.closed) return;
      if (thread.retiring) return this.close(thread);
      thread.worker.unref();
      thread.idleTimer = setTimeout(() => this.close(thread), this.idleMs);
      thread.idleTimer.unref();
    });
  }

  /** Closes every thread (in-flight requests reject). */
  async closeAll(): Promise<void> {
    const threads = [...this.threads.values()];
    await Promise.all(threads.map((thread) => this.close(thread)));
  }

  private threadFor(key: string): WarmThread {
    const existing = this.threads.get(key);
    if (existing) {
      // Most recently used last.
      this.threads.delete(key);
      this.threads.set(key, existing);
      return existing;
    }
    if (this.threads.size >= this.maxThreads) {
      const idle = [...this.threads.values()].find((thread) => thread.pending === 0);
      const evicted = idle ?? this.threads.values().next().value!;
      this.threads.delete(evicted.key);
      if (idle) void this.close(idle);
      else evicted.retiring = true;
    }
    const thread: WarmThread = {
      key,
      worker: startWorkerThread(siblingModule(import.meta.url, 'embedding.worker')),
      tail: Promise.resolve(),
      pending: 0,
      retiring: false,
      closed: false,
    };
    // A thread that dies while idle is simply gone; a request in flight learns it from its own listeners.
    thread.worker.on('error', () => void this.close(thread));
    thread.worker.on('exit', () => void this.close(thread));
    this.started++;
    this.threads.set(key, thread);
    return thread;
  }

  private runOn(thread: WarmThread, request: Omit<EmbedRequest, 'type'>, signal?: AbortSignal): Promise<EmbedResult> {
    if (signal?.aborted) return Promise.reject(new EmbeddingCancelled());
    const { worker } = thread;
    return new Promise<EmbedResult>((resolve, reject) => {
      const settle = (outcome: () => void, stopThread: boolean) => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
        if (stopThread) void this.close(thread);
        outcome();
      };
      const onMessage = (message: FromEmbeddingThread) =>
        settle(
          () =>
            message.type === 'done'
              ? resolve({
                  table: message.table,
                  imageCount: message.imageCount,
                  computed: message.computed,
                  warm: message.warm,
                })
              : reject(new Error(message.message)),
          false,
        );
      const onError = (error: Error) => settle(() => reject(error), true);
      const onExit = (code: number) =>
        settle(() => reject(new Error(`the embedding thread stopped (exit code ${code})`)), true);
      const onAbort = () => settle(() => reject(new EmbeddingCancelled()), true);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.ref();
      worker.postMessage({ type: 'embed', ...request } satisfies EmbedRequest);
    });
  }

  private async close(thread: WarmThread): Promise<void> {
    if (thread.closed) return;
    thread.closed = true;
    clearTimeout(thread.idleTimer);
    if (this.threads.get(thread.key) === thread) this.threads.delete(thread.key);
    await thread.worker.terminate();
  }
}

/**
 * What makes two requests' backbones the same: the registered backbone (id, weights source, layers) and where URL
 * weights are kept; a model-backed backbone by its weights' hash, so a changed model never meets a stale thread.
 */
function backboneKey(descriptor: BackboneDescriptor, cacheDirectory: string): string {
  const { source, ...rest } = descriptor;
  const sourceKey =
    source.kind === 'model'
      ? Object.values(
          source.model.weights instanceof Uint8Array ? { weights: source.model.weights } : source.model.weights,
        )
          .reduce((hash, bytes) => hash.update(bytes), createHash('sha256').update(source.model.modelJson))
          .digest('hex')
      : JSON.stringify(source);
  return JSON.stringify([rest, sourceKey, cacheDirectory]);
}

/** The process's embedding threads, shared by every caller (background embeddings, test runs, suggestions). */
const sharedPool = new EmbeddingThreadPool();

/**
 * Computes embeddings on a warm worker thread of the shared pool (decoding, the backbone's forward passes,
 * pooling). Aborting `signal` stops the thread at once and rejects with EmbeddingCancelled.
 */
export function embedOnWorkerThread(request: Omit<EmbedRequest, 'type'>, signal?: AbortSignal): Promise<EmbedResult> {
  return sharedPool.embed(request, signal);
}
