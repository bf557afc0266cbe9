import type { DomainEvent } from '@diyml/core/pure';
import type { ClassificationMetrics, DetectionMetrics, MultilabelMetrics } from '@diyml/ml/pure';
import type { RecordedTrainingConfig } from '@diyml/projects/pure';

export const iterationStream = (iterationId: string) => `iteration-${iterationId}`;
/** Claimed in order to number a project's iterations 1, 2, 3… without gaps or repeats. */
export const iterationNumbersStream = (projectId: string) => `iteration-numbers-${projectId}`;

export type IterationStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
/** The project type an iteration trains for (libs/ml's task). */
export type Task = 'classification' | 'multilabel' | 'detection';

/** Validation metrics at the default thresholds (argmax; probability 0.5 for multilabel; score 0.5 and IoU 0.5 for detection). */
export type ValidationMetrics = ClassificationMetrics | MultilabelMetrics | DetectionMetrics;

/** Everything a run is determined by, frozen when it is queued. */
export interface IterationSpec {
  task: Task;
  /** Label ids in model-output order, with the names they had. */
  labels: { id: string; name: string }[];
  /** sha256 of the dataset manifest blob. */
  manifestSha256: string;
  imageCount: number;
  /** The project's configuration with the iteration's overrides, as it was when the iteration was queued. */
  trainingConfig: RecordedTrainingConfig;
  seed: number;
  architecture: string;
  /** The iteration this one repeats (reproduce), if any. */
  reproducedFrom: string | null;
  /** The 'transfer' architecture: sha256 of the model it builds on (absent in iterations queued before it existed). */
  baseModelSha256?: string | null;
  /**
   * Backbone architectures: sha256 of embedding tables (earlier iterations' embeddings) the run reuses rather than
   * computing again; a reproduction reuses its original's, so it trains on the very same numbers.
   */
  embeddingsSha256?: string[];
  /**
   * Detection: the validation photos are drawn per label (libs/ml's detectionSplitByLabel). Absent in iterations
   * queued before it existed, whose photos were drawn at random: their reproductions draw so again.
   */
  detectionSplitByLabel?: boolean;
  /**
   * Multilabel: the validation photos are drawn per label, a photo by its rarest label (libs/ml's
   * multilabelSplitByLabel). Absent in iterations queued before it existed, drawn at random: reproduced so again.
   */
  multilabelSplitByLabel?: boolean;
}

export interface EpochStats {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  durationMs: number;
  imagesPerSecond: number;
}

export interface IterationOutcome {
  /** sha256 of the trained model blob. */
  modelSha256: string;
  modelBytes: number;
  /** sha256 of the validation predictions blob, from which metrics at any threshold are computed. */
  evaluationSha256: string | null;
  /** Metrics at the default threshold. */
  metrics: ValidationMetrics | null;
  backend: string;
  bestEpoch: number;
  stoppedEarly: boolean;
  trainCount: number;
  validationCount: number;
  trainingDurationMs: number;
  /** Backbone architectures: sha256 of the table of every embedding the run used, for later runs to reuse. */
  embeddingsSha256?: string | null;
  /** Backbone architectures: embeddings (image × view) computed by this run, and those taken from earlier runs. */
  embeddingsComputed?: number;
  embeddingsReused?: number;
}

type Base = { projectId: string; iterationId: string };

export const MAX_ITERATION_NAME_LENGTH = 100;
/** The name an iteration has until it is renamed. */
export const defaultIterationName = (number: number) => `Iteration ${number}`;

export type IterationNumberReserved = DomainEvent<
  'IterationNumberReserved',
  { projectId: string; iterationId: string; number: number }
>;
export type IterationQueued = DomainEvent<
  'IterationQueued',
  Base & IterationSpec & { number: number; queuedAt: string }
>;
export type IterationStarted = DomainEvent<
  'IterationStarted',
  Base & { attempt: number; backend: string; startedAt: string }
>;
export type EpochCompleted = DomainEvent<'EpochCompleted', Base & EpochStats & { attempt: number }>;
export type IterationCompleted = DomainEvent<'IterationCompleted', Base & IterationOutcome & { completedAt: string }>;
export type IterationFailed = DomainEvent<'IterationFailed', Base & { code: string; reason: string; failedAt: string }>;
export type IterationCancelled = DomainEvent<'IterationCancelled', Base & { cancelledAt: string }>;
/**
 * A stopping worker (a deploy, a restart) handed the running attempt back to the queue: another worker runs the next
 * attempt, and this one does not count as lost (MAX_TRAINING_ATTEMPTS). The run's result does not depend on it.
 */
export type IterationHandedBack = DomainEvent<'IterationHandedBack', Base & { attempt: number; handedBackAt: string }>;
export type IterationRenamed = DomainEvent<'IterationRenamed', Base & { name: string }>;
/** The iteration leaves lists and deployment choices; its events stay in the history. */
export type IterationDeleted = DomainEvent<'IterationDeleted', Base & { deletedAt: string }>;

/** A model trained elsewhere (or exported from diyml), uploaded as a completed iteration. */
export interface ImportedModelSpec {
  task: Task;
  /** The project's labels in model-output order. */
  labels: { id: string; name: string }[];
  /** diyml's architecture id from the model's metadata, or 'imported' for a foreign model. */
  architecture: string;
  /** Where the model came from: a diyml export, a Teachable Machine (or other tfjs layers) export, or Keras 2 (.h5) or 3 (.keras). */
  format: 'diyml' | 'teachable-machine' | 'tfjs-layers' | 'keras-h5' | 'keras';
  /** sha256 of an empty dataset manifest (an imported model has no training data here). */
  manifestSha256: string;
  modelSha256: string;
  modelBytes: number;
}

export type ModelImported = DomainEvent<
  'ModelImported',
  Base & ImportedModelSpec & { number: number; importedAt: string }
>;

export type IterationEvent =
  | IterationQueued
  | IterationStarted
  | EpochCompleted
  | IterationCompleted
  | IterationFailed
  | IterationCancelled
  | IterationHandedBack
  | ModelImported
  | IterationRenamed
  | IterationDeleted;

export const ITERATION_EVENT_TYPES = [
  'IterationQueued',
  'IterationStarted',
  'EpochCompleted',
  'IterationCompleted',
  'IterationFailed',
  'IterationCancelled',
  'IterationHandedBack',
  'ModelImported',
  'IterationRenamed',
  'IterationDeleted',
] as const;
