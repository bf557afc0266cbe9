import { siblingModule, startWorkerThread } from '../../../core/src/index.js';
import type { Prediction, PredictOptions } from '../../../ml/src/index.js';
import type { FromTestRunThread, ToTestRunThread } from './test-run-protocol.js';

export class TestRunInputError extends Error {}

export class PredictionCancelled extends Error {
  constructor() {
    super('the prediction was cancelled');
  }
}

/**
 * Predicts images on a worker thread, so the api's event loop never runs the model for them. Aborting `signal`
 * stops the thread at once and rejects with PredictionCancelled.
 */
export function predictOnThread(
  modelZip: Uint8Array,
  images: Uint8Array[],
  options: PredictOptions,
  signal?: AbortSignal,
): Promise<{ predictions: Prediction[][]; backend: string }> {
  const worker = startWorkerThread(siblingModule(import.meta.url, 'test-run.worker'));
  return new Promise<{ predictions: Prediction[][]; backend: string }>((resolve, reject) => {
    if (signal?.aborted) return reject(new PredictionCancelled());
    signal?.addEventListener('abort', () => reject(new PredictionCancelled()), { once: true });
    worker.once('message', (message: FromTestRunThread) => {
      if (message.type === 'done') resolve({ predictions: message.predictions, backend: message.backend });
      else reject(message.invalidModel ? new TestRunInputError(message.message) : new Error(message.message));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the test-run thread stopped (exit code ${code})`)));
    const message: ToTestRunThread = { type: 'predict', modelZip, images, options, batchSize: 32 };
    worker.postMessage(message);
  }).finally(() => void worker.terminate());
}
