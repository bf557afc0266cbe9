/** Why a Keras file cannot become a diyml model; each code is a 400 for the client, with what to fix. */
export type KerasImportErrorCode =
  /** HDF5 (or a zip) that holds no Keras model: a weights-only file, or some other data. */
  | 'KERAS_NOT_A_MODEL'
  /** A layer type diyml cannot run (details name it). */
  | 'KERAS_UNSUPPORTED_LAYER'
  /** The model's configuration or its weights do not fit together. */
  | 'KERAS_MODEL_INVALID'
  /** The file, or the weights its arrays declare once decompressed, is larger than the import allows. */
  | 'KERAS_FILE_TOO_LARGE'
  /** Reading the file took longer than the import allows (a hostile or broken HDF5 file). */
  | 'KERAS_READ_TIMEOUT';

export class KerasImportError extends Error {
  constructor(
    readonly code: KerasImportErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'KerasImportError';
  }
}
