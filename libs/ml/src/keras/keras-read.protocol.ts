import type { KerasModelFile, KerasReadLimits } from './keras-file.js';
import type { KerasImportErrorCode } from './keras-import.error.js';

/** The file to read: a Keras 2 HDF5 file, or the entries of a Keras 3 zip. */
export type ToKerasReadThread =
  | { kind: 'keras-h5'; bytes: Uint8Array; limits: KerasReadLimits }
  | { kind: 'keras'; entries: Map<string, Uint8Array>; limits: KerasReadLimits };

export type FromKerasReadThread =
  | { type: 'ready' }
  | { type: 'read'; file: KerasModelFile }
  | { type: 'refused'; code: KerasImportErrorCode; message: string; details?: Record<string, unknown> };
