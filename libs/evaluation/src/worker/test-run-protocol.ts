import type { Prediction, PredictOptions } from '../../../ml/src/index.js';

/** Messages between a test-run job (main thread) and its prediction thread. */
export type ToTestRunThread = { type: 'predict'; modelZip: Uint8Array; images: Uint8Array[]; options: PredictOptions; batchSize: number };

export type FromTestRunThread =
  | { type: 'done'; predictions: Prediction[][]; backend: string }
  | { type: 'failed'; message: string; invalidModel: boolean };
