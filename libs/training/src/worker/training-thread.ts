import { siblingModule, startWorkerThread } from '@diyml/core/pure';
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
 * Trains on a worker thread. Epoch reports are delivered in order and awaited one after another, so the
 * caller can record each before the next. Preparation and batch reports (throttled by the thread) are transient: handed over as
 * they come, not awaited. `cancel()` stops the run between batches.
 */
export class TrainingThread {
  private readonly worker = startWorkerThread(siblingModule(import.meta.url, 'training.worker'));
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
    return new Promise<TrainingResult>((resolve, reject) => {
      const settle = (outcome: () => void) => {
        this.chain = this.chain.then(outcome, outcome);
      };
      this.worker.on('message', (message: FromTrainingThread) => {
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
            return settle(() => resolve(message.result));
          case 'cancelled':
            return settle(() => reject(new TrainingThreadCancelled()));
          case 'failed':
            return settle(() =>
              reject(message.invalidInput ? new TrainingInputError(message.message) : new Error(message.message)),
            );
        }
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the training thread stopped (exit code ${code})`)));
      // The images, cached embeddings and feature maps move to the thread rather than being copied (detection maps:
      // ~0.5 MB each): the caller's views of them are emptied.
      this.worker.postMessage({ type: 'train', dataset, config } satisfies ToTrainingThread, [
        ...imageBuffers(dataset),
        ...vectorBuffers(config.embeddings ?? []),
      ]);
    }).finally(() => void this.worker.terminate());
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
    this.send({ type: 'cancel' });
  }

  private send(message: ToTrainingThread): void {
    this.worker.postMessage(message);
  }
}
