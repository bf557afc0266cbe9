import { siblingModule, startWorkerThread } from '@diyml/core/pure';
import { weightBuffers } from '@diyml/ml';
import type { FromKerasConversionThread, ToKerasConversionThread } from './keras-conversion.protocol.js';

/**
 * Builds a Keras model as a TensorFlow.js model archive on a worker thread (see keras-conversion.worker.ts), so the
 * event loop never builds the model. The weight arrays are moved to the thread, not copied: `request.file` is spent.
 */
export async function convertKerasOnThread(request: ToKerasConversionThread): Promise<FromKerasConversionThread> {
  const worker = startWorkerThread(siblingModule(import.meta.url, 'keras-conversion.worker'));
  try {
    return await new Promise<FromKerasConversionThread>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the Keras conversion thread stopped (exit code ${code})`)));
      worker.postMessage(request, weightBuffers(request.file));
    });
  } finally {
    void worker.terminate();
  }
}
