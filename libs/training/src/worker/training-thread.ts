import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorkerThread, WorkerThreadPool } from '@diyml/core/pure';
import type {
  BatchReport,
  EpochReport,
  PreparationReport,
  TrainingConfig,
  TrainingDataset,
  TrainingResult,
} from '@diyml/ml';
import { type FromTrainingThread, imageBuffers, type ToTrainingThread, vectorBuffers } from './training-protocol.js';

export class TrainingThreadCancelled extends Error {
  constructor() {
    super('training was cancelled');
  }
}

export class TrainingInputError extends Error {}

/**
 * The process's training threads: one finished thread is kept warm for the next run, which then skips starting a
 * thread and loading tfjs in it. Only a thread whose run completed with every tensor released is kept; a cancelled
 * or failed run's thread is closed. A thread serves a bounded number of runs before it is replaced.
 */
export const trainingThreads = new WorkerThreadPool(
  () => startWorkerThread(siblingModule(import.meta.url, 'training.worker')),
  { maxIdle: 1, maxRunsPerThread: 25 },
);

/**
 * Trains on a worker thread. Epoch reports are delivered in order and awaited one after another, so the
 * caller can record each before the next. Preparation and batch reports (throttled by the thread) are transient: handed over as
 * they come, not awaited. `cancel()` stops the run between batches; after the run it does nothing.
 */
export class TrainingThread {
  private worker: Worker | undefined;
  private chain = Promise.resolve();
  private callbackFailed = false;

  run(
    dataset: TrainingDataset,
    config: Partial<TrainingConfig>,
    callbacks: {
      onStarted(backend: string): Promise<void>;
      onEpoch(report: EpochReport): Promise<void>;
      onBatch?(report: BatchReport): void;
      onPreparation?(report: PreparationReport): void;
    },
  ): Promise<TrainingResult> {
    const worker = trainingThreads.acquire();
    this.worker = worker;
    let reusable = false;
    let onMessage: (message: FromTrainingThread) => void = () => undefined;
    let onError: (error: Error) => void = () => undefined;
    let onExit: (code: number) => void = () => undefined;
    return new Promise<TrainingResult>((resolve, reject) => {
      const settle = (outcome: () => void) => {
        this.chain = this.chain.then(outcome, outcome);
      };
      onMessage = (message) => {
        switch (message.type) {
          case 'started':
            return this.enqueue(() => callbacks.onStarted(message.backend), reject);
          case 'preparation':
            return callbacks.onPreparation?.(message.report);
          case 'batch':
            return callbacks.onBatch?.(message.report);
          case 'epoch':
            return this.enqueue(() => callbacks.onEpoch(message.report), reject);
          case 'done':
            reusable = message.tensorsReleased;
            return settle(() => resolve(message.result));
          case 'cancelled':
            return settle(() => reject(new TrainingThreadCancelled()));
          case 'failed':
            return settle(() =>
              reject(message.invalidInput ? new TrainingInputError(message.message) : new Error(message.message)),
            );
        }
      };
      onError = reject;
      onExit = (code) => reject(new Error(`the training thread stopped (exit code ${code})`));
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      // The images, cached embeddings and feature maps move to the thread rather than being copied (detection maps:
      // ~0.5 MB each): the caller's views of them are emptied.
      worker.postMessage({ type: 'train', dataset, config } satisfies ToTrainingThread, [
        ...imageBuffers(dataset),
        ...vectorBuffers(config.embeddings ?? []),
      ]);
    }).finally(() => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      this.worker = undefined;
      // A run whose callback failed was cancelled in the thread, possibly after it finished: not a thread to keep.
      trainingThreads.release(worker, reusable && !this.callbackFailed);
    });
  }

  /** Runs callbacks one after another; a failing one stops training and fails the run. */
  private enqueue(callback: () => Promise<void>, reject: (error: unknown) => void): void {
    this.chain = this.chain.then(async () => {
      if (this.callbackFailed) return;
      try {
        await callback();
      } catch (error) {
        this.callbackFailed = true;
        this.cancel();
        reject(error);
      }
    });
  }

  cancel(): void {
    this.worker?.postMessage({ type: 'cancel' } satisfies ToTrainingThread);
  }
}
