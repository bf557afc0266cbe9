import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore, updateStreamDocument } from '@diyml/read-store/pure';
import { TEST_RUN_EVENT_TYPES, type TestRunEvent } from '../../domain/test-run.events.js';
import { TEST_RUNS, type TestRunView } from './test-run.view.js';

/** Test runs with their status and metrics. */
@ReadModelProjection()
@Injectable()
export class TestRunsProjection implements Projection<TestRunEvent> {
  readonly name = 'test-runs';
  // 2: documents carry embeddings (computed, reused). 3: and a classification's average precisions.
  readonly version = 3;
  readonly collections = [TEST_RUNS];
  readonly eventTypes = TEST_RUN_EVENT_TYPES;

  async apply(event: Recorded<TestRunEvent>, store: ReadStore): Promise<void> {
    const runs = store.collection<TestRunView>(TEST_RUNS);
    const update = (change: Partial<TestRunView>) =>
      updateStreamDocument(runs, event.data.testRunId, event, () => change);
    switch (event.type) {
      case 'TestRunRequested': {
        const data = event.data;
        await runs.apply(data.testRunId, event.position, () => ({
          id: data.testRunId,
          projectId: data.projectId,
          iterationId: data.iterationId,
          status: 'requested',
          source: data.source,
          task: data.task,
          labels: data.labels,
          imageCount: data.imageCount,
          manifestSha256: data.manifestSha256,
          modelSha256: data.modelSha256,
          metrics: null,
          averagePrecision: null,
          predictionsSha256: null,
          evaluationSha256: null,
          backend: null,
          embeddings: null,
          error: null,
          requestedAt: data.requestedAt,
          completedAt: null,
          durationMs: null,
          revision: event.revision,
        }));
        return;
      }
      case 'TestRunCompleted': {
        const { metrics, averagePrecision, predictionsSha256, evaluationSha256, backend, durationMs, completedAt } =
          event.data;
        await update({
          status: 'completed',
          metrics,
          averagePrecision: averagePrecision ?? null,
          predictionsSha256,
          evaluationSha256,
          backend,
          embeddings: event.data.embeddings ?? null,
          durationMs,
          completedAt,
        });
        return;
      }
      case 'TestRunFailed':
        await update({
          status: 'failed',
          error: { code: event.data.code, reason: event.data.reason },
          completedAt: event.data.failedAt,
        });
        return;
      case 'TestRunCancelled':
        await update({ status: 'cancelled', completedAt: event.data.cancelledAt });
        return;
    }
  }
}
