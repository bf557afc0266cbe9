import { siblingModule, startWorkerThread, WorkerThreadPool } from '@diyml/core/pure';
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
 * stops the thread at once and rejects with PredictionCancelled; an abort after the answer does nothing.
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

/**
 * The process's prediction threads: one thread kept warm after a run, so the next test run (or label suggestion)
 * skips starting a thread and loading tfjs in it. Only a thread whose run answered with every tensor released is
 * kept; a failed, stopped or cancelled run's thread is closed. A thread serves a bounded number of runs.
 */
export const predictionThreads = new WorkerThreadPool(
  () => startWorkerThread(siblingModule(import.meta.url, 'test-run.worker')),
  { maxIdle: 1, maxRunsPerThread: 50 },
);

async function runOnThread(message: ToTestRunThread, signal?: AbortSignal): Promise<PredictionOutcome> {
  const answer = await predictionThreads.request<FromTestRunThread>(message, {
    reusable: (answer) => answer.type === 'done' && answer.tensorsReleased,
    stopped: (code) => new Error(`the test-run thread stopped (exit code ${code})`),
    ...(signal ? { abort: { signal, error: () => new PredictionCancelled() } } : {}),
  });
  if (answer.type === 'failed')
    throw answer.invalidModel ? new TestRunInputError(answer.message) : new Error(answer.message);
  return {
    predictions: answer.predictions,
    backend: answer.backend,
    ...(answer.featureMaps ? { featureMaps: answer.featureMaps } : {}),
    ...(answer.computedMaps ? { computedMaps: answer.computedMaps } : {}),
  };
}
