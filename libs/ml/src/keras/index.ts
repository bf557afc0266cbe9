export { convertKerasModel, type KerasModelDescription } from './keras-conversion.js';
export {
  isHdf5File,
  KERAS_ZIP_ENTRIES,
  type KerasModelFile,
  type KerasReadLimits,
  type KerasWeight,
  type KerasZipParts,
  weightBuffers,
} from './keras-file.js';
export { KerasImportError, type KerasImportErrorCode } from './keras-import.error.js';
export { SUPPORTED_KERAS_LAYERS, toTfjsTopology, type TfjsTopology } from './keras-topology.js';
export { readKerasOnThread, type KerasThreadLimits } from './keras-read-thread.js';
export type { KerasReadJob } from './keras-read.protocol.js';
