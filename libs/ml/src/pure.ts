/**
 * The part of ml that names architectures and backbones without loading a backend, ONNX Runtime or sharp
 * (`@diyml/ml/pure`): projects validates training configurations through it.
 */
export {
  chooseArchitecture,
  getArchitecture,
  knownArchitectures,
  PHOTO_MIN_SIDE,
  UnknownArchitectureError,
  type ArchitectureSummary,
} from './architectures/architecture-registry.js';
export { BackboneError, type Backbone, type BackboneDescriptor, type BackboneErrorCode } from './backbones/backbone.js';
export { DEFAULT_BACKBONE_ID, getBackbone, listBackbones } from './backbones/backbone-registry.js';
