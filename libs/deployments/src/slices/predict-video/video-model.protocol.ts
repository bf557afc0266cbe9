import type { Prediction, PredictOptions } from '@diyml/ml';

/** Messages between a video prediction job (main thread) and the thread that holds its model. */
export type ToVideoModelThread =
  { type: 'load'; modelZip: Uint8Array } | { type: 'predict'; images: Uint8Array[]; options: PredictOptions };

export type FromVideoModelThread =
  { type: 'loaded' } | { type: 'predicted'; predictions: Prediction[][] } | { type: 'failed'; message: string };
