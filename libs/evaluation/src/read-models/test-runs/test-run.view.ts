import type { ClassificationAveragePrecision, MetricsAtThresholds } from '@diyml/training/pure';
import type { TestRunSource, TestRunStatus } from '../../domain/test-run.events.js';

export const TEST_RUNS = 'test-runs';

/** Read-model document of a test run (collection `test-runs`). */
export interface TestRunView {
  id: string;
  projectId: string;
  iterationId: string;
  status: TestRunStatus;
  source: TestRunSource;
  task: 'classification' | 'multilabel' | 'detection';
  labels: string[];
  imageCount: number;
  manifestSha256: string;
  modelSha256: string;
  metrics: MetricsAtThresholds | null;
  /** Classification runs completed since TestRunCompleted records it; null for the others (see TestRunOutcome). */
  averagePrecision: ClassificationAveragePrecision | null;
  predictionsSha256: string | null;
  evaluationSha256: string | null;
  backend: string | null;
  /** Backbone-classifier models, once completed: image embeddings computed for the run and reused from the cache. */
  embeddings: { computed: number; reused: number } | null;
  error: { code: string; reason: string } | null;
  requestedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  revision: number;
}
