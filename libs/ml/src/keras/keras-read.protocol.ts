import type { KerasModelFile, KerasReadLimits, KerasZipParts } from './keras-file.js';
import type { KerasImportErrorCode } from './keras-import.error.js';

/** The file to read, where it lies: a Keras 2 HDF5 file, or the parts of a Keras 3 zip. */
export type KerasReadJob = { kind: 'keras-h5'; path: string } | ({ kind: 'keras' } & KerasZipParts);

export type ToKerasReadThread = KerasReadJob & { limits: KerasReadLimits };

export type FromKerasReadThread =
  | { type: 'ready' }
  | { type: 'read'; file: KerasModelFile }
  | { type: 'refused'; code: KerasImportErrorCode; message: string; details?: Record<string, unknown> };
