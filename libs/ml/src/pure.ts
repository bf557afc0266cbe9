/**
 * The part of ml that names architectures and backbones and computes metrics without loading a backend, ONNX
 * Runtime or sharp (`@diyml/ml/pure`): projects validates training configurations through it, training's stored
 * evaluations compute their metrics with it.
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
export {
  classificationAveragePrecision,
  classificationMetricsAtThreshold,
  type ClassificationMetrics,
} from './metrics/classification-metrics.js';
export { bestUnmatchedTruth, detectionMetrics, type DetectionMetrics } from './metrics/detection-metrics.js';
export {
  MULTILABEL_THRESHOLD,
  multilabelMetrics,
  type MultilabelLabelMetrics,
  type MultilabelMetrics,
} from './metrics/multilabel-metrics.js';
export type {
  ClassificationValidation,
  DetectionValidation,
  MultilabelValidation,
  Validation,
} from './training/training-types.js';
export { DECODING_BUDGET_PIXELS, decodingBudget } from './images/decoding-budget.js';
export { decodingToSrgb } from './images/srgb-pipeline.js';
