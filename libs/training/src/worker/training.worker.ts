import { parentPort } from 'node:worker_threads';
import {
  type BatchReport,
  disposeLeftoverVariables,
  liveTensorCount,
  type PreparationReport,
  selectBackend,
  train,
  TrainingCancelledError,
} from '@diyml/ml';
import { throttlePreparation } from '../jobs/preparation-progress.js';
import { type FromTrainingThread, imageBuffers, type ToTrainingThread, vectorBuffers } from './training-protocol.js';

/**
 * The training thread, so the api's event loop never computes a gradient. It trains one run at a time; the pool that
 * owns it may send it another run once one is done. Layer names are explicit in every architecture, so a model built
 * here after others has the same bytes as one built in a fresh thread.
 */
const port = parentPort!;
/** The run in progress: a cancel that arrives after its run ended has nothing to stop. */
let cancellation: AbortController | undefined;
const send = (message: FromTrainingThread) => port.postMessage(message);
/** Empties `buffer` and frees its memory at once (ES2024's ArrayBuffer transfer; the TypeScript lib here is ES2023). */
const detach = (buffer: ArrayBuffer) => (buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
/** Batch progress is for people watching: at most four reports a second, however short the batches. */
const BATCH_REPORT_INTERVAL_MS = 250;
let lastBatchReport = -Infinity;
const reportBatch = (report: BatchReport) => {
  const now = performance.now();
  if (now - lastBatchReport < BATCH_REPORT_INTERVAL_MS) return;
  lastBatchReport = now;
  send({ type: 'batch', report });
};
/** Frees what the run left on the backend; whether the thread is back at `tensorsBefore`, fit to train again. */
function releaseMemory(tensorsBefore: number): boolean {
  disposeLeftoverVariables();
  return liveTensorCount() <= tensorsBefore;
}

port.on('message', (message: ToTrainingThread) => {
  if (message.type === 'cancel') {
    cancellation?.abort();
    return;
  }
  const { dataset, config } = message;
  const run = new AbortController();
  cancellation = run;
  lastBatchReport = -Infinity;
  const reportPreparation = throttlePreparation((report: PreparationReport) => send({ type: 'preparation', report }));
  const encodedImages = imageBuffers(dataset);
  let tensorsBefore = 0;
  selectBackend(config.backend)
    .then((backend) => {
      tensorsBefore = liveTensorCount();
      send({ type: 'started', backend });
      return train(
        dataset,
        { ...config, backend },
        {
          signal: run.signal,
          onPreparation: reportPreparation,
          onBatchEnd: reportBatch,
          onEpochEnd: (report) => send({ type: 'epoch', report }),
          // This thread owns the images it was handed: once decoded, detaching them frees their memory now.
          onImagesDecoded: () => encodedImages.forEach(detach),
        },
      );
    })
    .then((result) =>
      port.postMessage(
        { type: 'done', result, tensorsReleased: releaseMemory(tensorsBefore) } satisfies FromTrainingThread,
        vectorBuffers([
          ...(result.embeddings ? [result.embeddings] : []),
          ...(result.featureMaps ? [result.featureMaps] : []),
        ]),
      ),
    )
    .catch((error: unknown) => {
      if (error instanceof TrainingCancelledError) return send({ type: 'cancelled' });
      const invalidInput =
        error instanceof RangeError || ['UnknownArchitectureError', 'BackboneError'].includes((error as Error).name);
      send({ type: 'failed', message: (error as Error).message ?? String(error), invalidInput });
    })
    .finally(() => {
      if (cancellation === run) cancellation = undefined;
    });
});
