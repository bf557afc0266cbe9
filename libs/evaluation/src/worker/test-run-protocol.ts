import type { Prediction, PredictOptions } from '@diyml/ml';

/**
 * Messages between a test-run job (main thread) and its prediction thread: predict from the images (the whole
 * model), or from their cached backbone embeddings (a 'backbone-classifier' model's head alone).
 */
export type ToTestRunThread =
  | { type: 'predict'; modelZip: Uint8Array; images: Uint8Array[]; options: PredictOptions; batchSize: number }
  | { type: 'predict-embeddings'; modelZip: Uint8Array; embeddings: Float32Array[]; options: PredictOptions };

export type FromTestRunThread =
  | { type: 'done'; predictions: Prediction[][]; backend: string }
  | { type: 'failed'; message: string; invalidModel: boolean };
