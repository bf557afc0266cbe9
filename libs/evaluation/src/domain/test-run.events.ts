import type { DomainEvent } from '@diyml/core/pure';
import type { ClassificationAveragePrecision, MetricsAtThresholds } from '@diyml/training/pure';

export const testRunStream = (testRunId: string) => `test-run-${testRunId}`;

export type TestRunStatus = 'requested' | 'completed' | 'failed' | 'cancelled';
export type TestRunSource = 'upload' | 'split';

type Base = { projectId: string; testRunId: string; iterationId: string };

/** What a test run is determined by, frozen when it is requested. */
export interface TestRunSpec {
  source: TestRunSource;
  task: 'classification' | 'multilabel' | 'detection';
  /** The model's labels, in output order. */
  labels: string[];
  /** sha256 of the test manifest blob (images by sha256 with their expected labels or boxes). */
  manifestSha256: string;
  /** sha256 of the model blob tested. */
  modelSha256: string;
  imageCount: number;
}

export interface TestRunOutcome {
  /** The same metrics as training reports for validation, on the test images. */
  metrics: MetricsAtThresholds;
  /** sha256 of the per-image predictions blob. */
  predictionsSha256: string;
  /** sha256 of the stored evaluation, from which metrics at any threshold are computed. */
  evaluationSha256: string;
  backend: string;
  durationMs: number;
  /**
   * Backbone models: images whose embeddings (backbone-classifier) or feature maps (backbone-detector) this run
   * computed through the backbone, and those reused from a cache (the project's, or the iteration's training).
   */
  embeddings?: { computed: number; reused: number };
  /**
   * Classification runs completed since it was recorded: each label's average precision and their mean, computed
   * once from the evaluation so that listing runs reads no evaluation. Earlier runs lack it: it is read from their
   * evaluation.
   */
  averagePrecision?: ClassificationAveragePrecision;
}

export type TestRunRequested = DomainEvent<'TestRunRequested', Base & TestRunSpec & { requestedAt: string }>;
export type TestRunCompleted = DomainEvent<'TestRunCompleted', Base & TestRunOutcome & { completedAt: string }>;
export type TestRunFailed = DomainEvent<'TestRunFailed', Base & { code: string; reason: string; failedAt: string }>;
/** The owner stopped the run while it was queued or running; its job records nothing after this. */
export type TestRunCancelled = DomainEvent<'TestRunCancelled', Base & { cancelledAt: string }>;

export type TestRunEvent = TestRunRequested | TestRunCompleted | TestRunFailed | TestRunCancelled;

export const TEST_RUN_EVENT_TYPES = [
  'TestRunRequested',
  'TestRunCompleted',
  'TestRunFailed',
  'TestRunCancelled',
] as const;
