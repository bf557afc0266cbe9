import type { LabeledBox, ScoredBox } from '../boxes/box.js';
import type { BackboneDescriptor } from '../backbones/backbone.js';
import type { EmbeddingTable } from '../backbones/embeddings.js';
import type { LoadBackboneOptions } from '../backbones/load-backbone.js';
import type { AugmentationOptions } from '../images/augmentation.js';
import type { ImageSource } from '../images/image-decoding.js';
import type { BackendName } from '../backend/backend-selection.js';
import type { ClassificationMetrics } from '../metrics/classification-metrics.js';
import type { DetectionMetrics } from '../metrics/detection-metrics.js';
import type { MultilabelMetrics } from '../metrics/multilabel-metrics.js';
import type { SerializedModel, Task } from '../models/model-serialization.js';

export interface TrainingExample {
  image: ImageSource;
  /** Classification: index into the dataset's labels. */
  label?: number;
  /** Multilabel: indexes into the dataset's labels (none for an image without any). */
  labels?: number[];
  /** Detection: boxes in fractions of the image (origin top-left); an image may have none. */
  boxes?: LabeledBox[];
  /** A fixed split; examples without one are divided by `validationSplit`. */
  split?: 'train' | 'validation';
}

export interface TrainingDataset {
  task: Task;
  labels: string[];
  examples: TrainingExample[];
}

export interface EarlyStoppingConfig {
  /** Epochs without a validation-loss improvement before training stops. */
  patience: number;
  /** Smallest decrease that counts as an improvement. Default 0. */
  minDelta?: number;
}

export interface TrainingConfig {
  /** Architecture id; default: the task's default ('small-cnn' or 'backbone-detector'). */
  architecture?: string;
  learningRate: number;
  epochs: number;
  batchSize: number;
  /** Side of the square model input in pixels; default: the architecture's. Ignored by 'transfer'. */
  imageSize?: number;
  /** 1 for grayscale models; default 3. Ignored by 'transfer'. */
  channels?: 1 | 3;
  /** Fraction of examples without a fixed split held out for validation (stratified by label). */
  validationSplit: number;
  /**
   * Detection: hold out `validationSplit` of each label's images (an image counted by its rarest label) rather than
   * of all images at random. Absent or false: the random draw of runs made before it existed.
   */
  detectionSplitByLabel?: boolean;
  /** Multilabel: the same per label, an image counted by its rarest label. Absent or false: one random draw. */
  multilabelSplitByLabel?: boolean;
  /** true for the default augmentation, false for none. */
  augmentation: boolean | AugmentationOptions;
  seed: number;
  earlyStopping?: EarlyStoppingConfig | null;
  /** The frozen model the 'transfer' architecture builds on. */
  baseModel?: SerializedModel;
  baseModelInputRange?: [number, number];
  /** Backend to prefer; the fastest available is used otherwise. */
  backend?: BackendName;
  /** The pretrained backbone of a backbone architecture: a registered id or a descriptor; default 'mobilenet-v2'. */
  backbone?: string | BackboneDescriptor;
  /** Where URL backbones are kept, and a faster runtime for the frozen forward pass. */
  backboneLoading?: LoadBackboneOptions;
  /**
   * 'backbone-classifier': how many of the backbone's last blocks (before its embedding layer) are trained too, at a
   * tenth of the learning rate; 0 or absent keeps the backbone frozen.
   */
  fineTune?: number;
  /**
   * Embeddings (and detection feature maps) computed by earlier runs (any space; those of this run's space are
   * reused, the rest ignored).
   */
  embeddings?: EmbeddingTable[];
}

export const DEFAULT_TRAINING_CONFIG: TrainingConfig = {
  learningRate: 0.001,
  epochs: 10,
  batchSize: 32,
  validationSplit: 0.2,
  augmentation: true,
  seed: 1,
  earlyStopping: null,
};

export interface EpochReport {
  /** 1-based. */
  epoch: number;
  epochs: number;
  loss: number;
  /** Training accuracy (classification); null for multilabel and detection. */
  accuracy: number | null;
  valLoss: number | null;
  /**
   * Validation accuracy for classification, validation mAP for multilabel, mAP@0.5 for detection; null without
   * validation data.
   */
  valAccuracy: number | null;
  durationMs: number;
  imagesPerSecond: number;
}

/** Where training is within an epoch: after each batch. */
export interface BatchReport {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** 1-based: batches done in this epoch. */
  batch: number;
  batches: number;
  /** Since the epoch started. */
  elapsedMs: number;
  /** Training images per second in this epoch so far. */
  imagesPerSecond: number;
  /** Images each step learns from (the last step of a pass may take fewer). */
  batchSize: number;
  /** Images the run trains on, and those it validates on (0 without validation). */
  trainingImages: number;
  validationImages: number;
}

/** What a training run does before its first epoch: decoding every image, then (backbones) computing features. */
export type PreparationPhase = 'decoding' | 'embedding' | 'feature-maps';

/** Where a training run is within a phase before its first epoch. */
export interface PreparationReport {
  phase: PreparationPhase;
  /** Done so far: images decoded, or image views (an image in one augmented view) computed on the backbone. */
  done: number;
  total: number;
  /** Image views found in the cache of earlier runs, so not computed (0 when decoding). */
  cached: number;
  /** Since the phase started. */
  elapsedMs: number;
  /** Images (or image views) per second in this phase so far. */
  perSecond: number;
}

export interface TrainingCallbacks {
  /** Awaited, so a slow consumer slows training rather than piling up reports. */
  onEpochEnd?: (report: EpochReport) => void | Promise<void>;
  /** Not awaited: called after every batch, so it must be quick (throttle what it sends on). */
  onBatchEnd?: (report: BatchReport) => void;
  /** Not awaited: called as each preparation phase starts and after each image or batch, so it must be quick. */
  onPreparation?: (report: PreparationReport) => void;
  /** Checked between batches; an abort ends training with a TrainingCancelledError. */
  signal?: AbortSignal;
  /**
   * Called once every example's image is decoded (and hashed, for backbones): training reads the dataset's images no
   * more, so their owner may release them (the training thread frees the encoded bytes it was handed).
   */
  onImagesDecoded?: () => void;
}

export class TrainingCancelledError extends Error {
  constructor(readonly completedEpochs: number) {
    super(`training cancelled after ${completedEpochs} completed epoch(s)`);
    this.name = 'TrainingCancelledError';
  }
}

/** Validation outcome per example, enough to recompute metrics at any threshold with the metric functions. */
export interface ClassificationValidation {
  task: 'classification';
  /** Indexes into the dataset's examples. */
  exampleIndexes: number[];
  expected: number[];
  probabilities: number[][];
  metrics: ClassificationMetrics;
}

/** Multilabel validation: the label set and every label's probability per example. */
export interface MultilabelValidation {
  task: 'multilabel';
  exampleIndexes: number[];
  expected: number[][];
  probabilities: number[][];
  /** At probability 0.5. */
  metrics: MultilabelMetrics;
}

export interface DetectionValidation {
  task: 'detection';
  exampleIndexes: number[];
  /** Per example, boxes in fractions of the original image. */
  samples: { groundTruth: LabeledBox[]; detections: ScoredBox[] }[];
  metrics: DetectionMetrics;
}

export type Validation = ClassificationValidation | MultilabelValidation | DetectionValidation;

export interface TrainingResult {
  model: SerializedModel & { weights: Uint8Array };
  backend: BackendName;
  architecture: string;
  history: EpochReport[];
  /** The epoch whose weights were kept (the best validation loss when early stopping is on, else the last). */
  bestEpoch: number;
  stoppedEarly: boolean;
  trainCount: number;
  validationCount: number;
  validation: Validation | null;
  durationMs: number;
  /** Backbone architectures: every embedding this run used (the cached ones and those it computed), to cache. */
  embeddings?: EmbeddingTable & { computed: number; reused: number; computeMs: number };
  /** Backbone detectors: every feature map this run used (cached or computed), by image and view, to cache. */
  featureMaps?: EmbeddingTable & { computed: number; reused: number; computeMs: number };
}
