import type { KerasImportErrorCode, KerasModelFile } from '@diyml/ml';

/** A Keras model read from its file (configuration and weight arrays), to build as a TensorFlow.js model. */
export interface ToKerasConversionThread {
  file: KerasModelFile;
  labels: string[];
  inputRange: [number, number];
  /** Where to write the model archive (a new file). */
  zipPath: string;
}

export type FromKerasConversionThread =
  | { type: 'converted' }
  | { type: 'refused'; code: KerasImportErrorCode; message: string; details?: Record<string, unknown> };
