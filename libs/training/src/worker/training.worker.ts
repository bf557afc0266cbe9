import { parentPort } from 'node:worker_threads';
import { type BatchReport, type PreparationReport, selectBackend, train, TrainingCancelledError } from '@diyml/ml';
import { throttlePreparation } from '../jobs/preparation-progress.js';
import { type FromTrainingThread, imageBuffers, type ToTrainingThread, vectorBuffers } from './training-protocol.js';

/** The training thread: one run per thread, so the api's event loop never computes a gradient. */
const port = parentPort!;
const cancellation = new AbortController();
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
const reportPreparation = throttlePreparation((report: PreparationReport) => send({ type: 'preparation', report }));

port.on('message', (message: ToTrainingThread) => {
  if (message.type === 'cancel') {
    cancellation.abort();
    return;
  }
  const { dataset, config } = message;
  const encodedImages = imageBuffers(dataset);
  selectBackend(config.backend)
    .then((backend) => {
      send({ type: 'started', backend });
      return train(
        dataset,
        { ...config, backend },
        {
          signal: cancellation.signal,
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
        { type: 'done', result } satisfies FromTrainingThread,
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
    });
});
