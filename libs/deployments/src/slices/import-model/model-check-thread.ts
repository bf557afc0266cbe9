import { siblingModule, startWorkerThread, WorkerThreadPool } from '@diyml/core/pure';
import type { SerializedModel } from '@diyml/ml';
import type { FromModelCheckThread, ModelCheck, ToModelCheckThread } from './model-check.protocol.js';

/**
 * The process's model-check threads: one kept warm after a valid model that left no tensor behind, so the next import
 * skips starting a thread and loading tfjs. A thread that saw an invalid model (possibly hostile) is closed.
 */
export const modelCheckThreads = new WorkerThreadPool(
  () => startWorkerThread(siblingModule(import.meta.url, 'model-check.worker')),
  { maxIdle: 1, maxRunsPerThread: 50 },
);

/**
 * Loads and tries a model on a worker thread (see model-check.worker.ts), so the event loop never runs it. The weight
 * files are moved to the thread, not copied (a model's weights are held once on the way): `model` is spent.
 */
export async function checkModelOnThread(model: SerializedModel, maxInputPixels: number): Promise<ModelCheck> {
  const files = model.weights instanceof Uint8Array ? [model.weights] : Object.values(model.weights);
  const { tensorsReleased, ...checked } = await modelCheckThreads.request<FromModelCheckThread>(
    { model, maxInputPixels } satisfies ToModelCheckThread,
    {
      reusable: (answer) => answer.type === 'valid' && answer.tensorsReleased,
      stopped: (code) => new Error(`the model-check thread stopped (exit code ${code})`),
      transfer: [...new Set(files.map((file) => file.buffer as ArrayBuffer))],
    },
  );
  return checked;
}
