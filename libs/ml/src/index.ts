export * from './pure.js';
export { selectBackend, type BackendName } from './backend/backend-selection.js';
export { registerGradientKernels } from './backend/gradient-kernels.js';
export { conv2dBackpropFilterByConv2d, conv2dBackpropInputByConv2d } from './backend/conv2d-gradient.kernels.js';
export { maxPoolGradByArgmax } from './backend/max-pool-gradient.kernels.js';

export { SeededRandom } from './random/seeded-random.js';

export { iou, nonMaxSuppression, type Box, type LabeledBox, type ScoredBox } from './boxes/box.js';

export {
  boxFromLetterbox,
  boxToLetterbox,
  decodeAll,
  decodeLetterboxed,
  decodeResized,
  letterboxTransform,
  letterboxTransformOf,
  toUnitRange,
  type Channels,
  type DecodedImage,
  type ImageSize,
  type ImageSource,
  type LetterboxedImage,
  type LetterboxTransform,
  type RawImage,
} from './images/image-decoding.js';
export {
  augmentBatch,
  augmentBoxes,
  DEFAULT_AUGMENTATION,
  IDENTITY_PLAN,
  planAugmentation,
  type AugmentationOptions,
  type AugmentationPlan,
} from './images/augmentation.js';

export type {
  Architecture,
  BuildOptions,
  BuiltModel,
  DecodeOptions,
  ExampleTarget,
  RawPrediction,
} from './architectures/architecture.js';

export { prepareImage, toInputArray, toInputTensor, type InputSpec, type PreparedImage } from './models/model-input.js';
// The detection head's output decoding, for benchmarks that time a prediction's stages.
export { anchorFreeHead } from './detection/anchor-free-head.js';
export {
  deserializeModel,
  serializeModel,
  type ModelMetadata,
  type SerializedModel,
  type Task,
} from './models/model-serialization.js';
export {
  expectedWeightBytes,
  findNonFiniteWeight,
  manifestWeights,
  type WeightsManifestJson,
} from './models/weight-manifest.js';

export { train } from './training/training-loop.js';
export { disposeLeftoverVariables, liveTensorCount } from './training/live-tensors.js';
export { splitExamples, type DatasetSplit } from './training/dataset-split.js';
export {
  DEFAULT_TRAINING_CONFIG,
  TrainingCancelledError,
  type EarlyStoppingConfig,
  type BatchReport,
  type PreparationPhase,
  type PreparationReport,
  type EpochReport,
  type TrainingCallbacks,
  type TrainingConfig,
  type TrainingDataset,
  type TrainingExample,
  type TrainingResult,
} from './training/training-types.js';

export {
  convertToOnnx,
  UnsupportedLayerError,
  type OnnxConversion,
  type OnnxConversionOptions,
  type OnnxTensorInfo,
} from './onnx/layers-to-onnx.converter.js';
export {
  createOnnxFeatureExtractor,
  type FeatureExtractor,
  type FeatureExtractorOptions,
  type ForwardRuntime,
} from './onnx/onnx-feature-extractor.js';

export {
  LoadedModel,
  loadModel,
  type LoadOptions,
  type Prediction,
  type PredictOptions,
} from './inference/loaded-model.js';
export { EmbeddingHead } from './inference/embedding-head.js';
export { FeatureMapHead, type ImageWithMaps } from './inference/feature-map-head.js';

export {
  accuracy,
  classificationMetrics,
  confusionMatrix,
  predictAtThreshold,
  type ClassificationMetrics,
  type ConfusionMatrix,
  type LabelMetrics,
  type PredictedLabel,
} from './metrics/classification-metrics.js';
export {
  averagePrecision,
  averagePrecisionForLabel,
  type DetectionLabelMetrics,
  type DetectionMetrics,
  type DetectionMetricsOptions,
  type DetectionSample,
} from './metrics/detection-metrics.js';

export {
  type FeatureLayer,
  type FeatureRunner,
  type FeatureRunnerFactory,
  type WeightSource,
} from './backbones/backbone.js';
export { MOBILENET_V2_NSFWJS, registerBackbone, unregisterBackbone } from './backbones/backbone-registry.js';
export { loadBackbone, type LoadBackboneOptions } from './backbones/load-backbone.js';
export { ensureBackboneWeights, readBackboneModel, type WeightSourceOptions } from './backbones/weight-sources.js';
export { describeImportedBackbone } from './backbones/imported-backbone.js';
export { describeForeignModel } from './models/foreign-model.js';
export {
  decodeEmbeddingTable,
  embedEncodedImages,
  embeddingDimensionOf,
  embeddingSpaceKey,
  embeddingSpaceOf,
  embeddingTableEntries,
  embeddingViews,
  emptyEmbeddingTable,
  encodeEmbeddingTable,
  mergeEmbeddingTables,
  type EmbeddingSpace,
  type EmbeddingTable,
  type EmbeddingView,
  type EncodedImage,
} from './backbones/embeddings.js';
export { computeEmbeddings, IDENTITY_VIEW, imageContentHash } from './backbones/embeddings.js';
export * from './keras/index.js';
export { ModelProto } from './onnx/onnx-proto.js';
export {
  augmentedViews,
  encodeFeatureMapIndex,
  featureMapLength,
  featureMapsFromBytes,
  featureMapSpaceOf,
  featureMapsToBytes,
  readFeatureMapIndex,
  type FeatureMapIndex,
  type ImageFeatureMaps,
} from './backbones/feature-maps.js';
