import { siblingModule, startWorkerThread } from '@diyml/core/pure';
import type { SerializedModel } from '@diyml/ml';
import type { FromModelCheckThread, ToModelCheckThread } from './model-check.protocol.js';

/** Loads and tries a model on a worker thread (see model-check.worker.ts), so the event loop never runs it. */
export async function checkModelOnThread(
  model: SerializedModel,
  maxInputPixels: number,
): Promise<FromModelCheckThread> {
  const worker = startWorkerThread(siblingModule(import.meta.url, 'model-check.worker'));
  try {
    return await new Promise<FromModelCheckThread>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the model-check thread stopped (exit code ${code})`)));
      const message: ToModelCheckThread = { model, maxInputPixels };
      worker.postMessage(message);
    });
  } finally {
    void worker.terminate();
  }
}
