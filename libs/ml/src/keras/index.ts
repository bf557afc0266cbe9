export { convertKerasModel, type KerasModelDescription } from './keras-conversion.js';
export {
  isHdf5,
  isKerasZip,
  KERAS_ZIP_ENTRIES,
  type KerasModelFile,
  type KerasReadLimits,
  type KerasWeight,
} from './keras-file.js';
export { KerasImportError, type KerasImportErrorCode } from './keras-import.error.js';
export { SUPPORTED_KERAS_LAYERS, toTfjsTopology, type TfjsTopology } from './keras-topology.js';
export { readKerasOnThread, type KerasThreadLimits } from './keras-read-thread.js';
