import { siblingModule, startWorkerThread } from '@diyml/core/pure';
import type { BackboneDescriptor, EmbeddingSpace, Prediction, PredictOptions } from '@diyml/ml';
import type { ComputedFeatureMaps, FeatureUse, FromTestRunThread, ToTestRunThread } from './test-run-protocol.js';

export class TestRunInputError extends Error {}

export class PredictionCancelled extends Error {
  constructor() {
    super('the prediction was cancelled');
  }
}

type PredictionOutcome = {
  predictions: Prediction[][];
  backend: string;
  featureMaps?: FeatureUse;
  computedMaps?: ComputedFeatureMaps;
};

/**
 * Predicts images on a worker thread, so the api's event loop never runs the model for them. Aborting `signal`
 * stops the thread at once and rejects with PredictionCancelled.
 */
export function predictOnThread(
  modelZip: Uint8Array,
  images: Uint8Array[],
  options: PredictOptions,
  signal?: AbortSignal,
): Promise<PredictionOutcome> {
  return runOnThread({ type: 'predict', modelZip, images, options, batchSize: 32 }, signal);
}

/** Predicts from images' cached backbone embeddings with a 'backbone-classifier' model's head, on a worker thread. */
export function predictFromEmbeddingsOnThread(
  modelZip: Uint8Array,
  embeddings: Float32Array[],
  options: PredictOptions,
  signal?: AbortSignal,
): Promise<PredictionOutcome> {
  return runOnThread({ type: 'predict-embeddings', modelZip, embeddings, options }, signal);
}

/**
 * Predicts images with a 'backbone-detector' model on a worker thread: its head alone on the images' cached backbone
 * maps (`maps`, null where an image has none) and on the maps `backbone` computes for the others (returned as
 * `computedMaps`, to cache); the whole model where that backbone cannot be loaded, and on every image when the maps
 * are of a space the head does not read. The outcome counts both.
 */
export function predictFromFeatureMapsOnThread(
  modelZip: Uint8Array,
  images: Uint8Array[],
  cached: {
    space: EmbeddingSpace;
    dimension: number;
    maps: (Float32Array | null)[];
    backbone: { descriptor: BackboneDescriptor; cacheDirectory: string } | null;
  },
  options: PredictOptions,
  signal?: AbortSignal,
): Promise<PredictionOutcome> {
  return runOnThread({ type: 'predict-feature-maps', modelZip, images, ...cached, options, batchSize: 32 }, signal);
}

function runOnThread(message: ToTestRunThread, signal?: AbortSignal): Promise<PredictionOutcome> {
  const worker = startWorkerThread(siblingModule(import.meta.url, 'test-run.worker'));
  return new Promise<PredictionOutcome>((resolve, reject) => {
    if (signal?.aborted) return reject(new PredictionCancelled());
    signal?.addEventListener('abort', () => reject(new PredictionCancelled()), { once: true });
    worker.once('message', (answer: FromTestRunThread) => {
      if (answer.type === 'done')
        resolve({
          predictions: answer.predictions,
          backend: answer.backend,
          ...(answer.featureMaps ? { featureMaps: answer.featureMaps } : {}),
          ...(answer.computedMaps ? { computedMaps: answer.computedMaps } : {}),
        });
      else reject(answer.invalidModel ? new TestRunInputError(answer.message) : new Error(answer.message));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the test-run thread stopped (exit code ${code})`)));
    worker.postMessage(message);
  }).finally(() => void worker.terminate());
}
