import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { testRunDecider } from './test-run.decider.js';
import type { TestRunEvent, TestRunSpec } from './test-run.events.js';

const now = new Date('2026-06-02T09:00:00.000Z');
const metadata = { userId: 'u1', correlationId: 'c1', now };
const spec = deciderSpecification(testRunDecider);
const ids = { projectId: 'p1', testRunId: 't1', iterationId: 'i1' };
const runSpec: TestRunSpec = {
  source: 'upload',
  task: 'classification',
  labels: ['cat', 'dog'],
  manifestSha256: 'mf',
  modelSha256: 'm',
  imageCount: 4,
};
const requested: TestRunEvent = {
  type: 'TestRunRequested',
  v: 1,
  data: { ...ids, ...runSpec, requestedAt: now.toISOString() },
};
const outcome = {
  metrics: {
    task: 'classification' as const,
    threshold: 0,
    accuracy: 1,
    precision: 1,
    recall: 1,
    f1: 1,
    perLabel: [{ label: 'red', precision: 1, recall: 1, f1: 1, support: 1 }],
    confusionMatrix: { labels: ['red'], matrix: [[1]], noPrediction: [0] },
  },
  predictionsSha256: 'p',
  evaluationSha256: 'e',
  backend: 'wasm',
  durationMs: 12,
};
const completed: TestRunEvent = {
  type: 'TestRunCompleted',
  v: 1,
  data: { ...ids, ...outcome, completedAt: now.toISOString() },
};
const failed: TestRunEvent = {
  type: 'TestRunFailed',
  v: 1,
  data: { ...ids, code: 'X', reason: 'broken', failedAt: now.toISOString() },
};
const cancelled: TestRunEvent = { type: 'TestRunCancelled', v: 1, data: { ...ids, cancelledAt: now.toISOString() } };

describe('test run decider', () => {
  it('requests a test run with its frozen manifest and model', () => {
    spec
      .given([])
      .when({ type: 'RequestTestRun', ...ids, spec: runSpec, metadata })
      .then([requested]);
    spec
      .given([requested])
      .when({ type: 'RequestTestRun', ...ids, spec: runSpec, metadata })
      .thenThrows('TEST_RUN_ALREADY_EXISTS');
  });

  it('completes a requested run once; a repeated completion (a retried job) changes nothing', () => {
    spec.given([requested]).when({ type: 'CompleteTestRun', outcome, metadata }).then([completed]);
    spec.given([requested, completed]).when({ type: 'CompleteTestRun', outcome, metadata }).thenNothingHappens();
    spec
      .given([requested, failed])
      .when({ type: 'CompleteTestRun', outcome, metadata })
      .thenThrows('TEST_RUN_FINISHED');
  });

  it('fails a requested run, and ignores a failure after it finished', () => {
    spec.given([requested]).when({ type: 'FailTestRun', code: 'X', reason: 'broken', metadata }).then([failed]);
    spec
      .given([requested, completed])
      .when({ type: 'FailTestRun', code: 'X', reason: 'late', metadata })
      .thenNothingHappens();
  });

  it('cancels a queued or running run once; a finished run has nothing to cancel', () => {
    spec.given([requested]).when({ type: 'CancelTestRun', metadata }).then([cancelled]);
    spec.given([requested, cancelled]).when({ type: 'CancelTestRun', metadata }).thenNothingHappens();
    spec.given([requested, completed]).when({ type: 'CancelTestRun', metadata }).thenThrows('TEST_RUN_FINISHED');
    spec.given([requested, failed]).when({ type: 'CancelTestRun', metadata }).thenThrows('TEST_RUN_FINISHED');
  });

  it('refuses the results of a cancelled run and ignores its failure', () => {
    spec
      .given([requested, cancelled])
      .when({ type: 'CompleteTestRun', outcome, metadata })
      .thenThrows('TEST_RUN_FINISHED');
    spec
      .given([requested, cancelled])
      .when({ type: 'FailTestRun', code: 'X', reason: 'late', metadata })
      .thenNothingHappens();
  });

  it('refuses commands for a run that does not exist', () => {
    spec.given([]).when({ type: 'FailTestRun', code: 'X', reason: 'r', metadata }).thenThrows('TEST_RUN_NOT_FOUND');
  });
});
