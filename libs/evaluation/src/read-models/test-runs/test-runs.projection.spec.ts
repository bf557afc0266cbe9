import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type Projection } from '@diyml/read-store/pure';
import type { TestRunEvent } from '../../domain/test-run.events.js';
import { TEST_RUNS, type TestRunView } from './test-run.view.js';
import { TestRunsProjection } from './test-runs.projection.js';

const metadata = { userId: 'u1', correlationId: 'c1', causationId: null, at: '2026-06-02T09:00:00.000Z' };
const ids = { projectId: 'p1', testRunId: 't1', iterationId: 'i1' };
const recorded = (event: TestRunEvent, position: number, revision: number): RecordedEvent => ({
  id: randomUUID(),
  streamId: 'test-run-t1',
  revision,
  position,
  type: event.type,
  v: event.v,
  data: event.data,
  metadata,
});
const requested: TestRunEvent = {
  type: 'TestRunRequested',
  v: 1,
  data: {
    ...ids,
    source: 'split',
    task: 'classification',
    labels: ['a', 'b'],
    manifestSha256: 'mf',
    modelSha256: 'm',
    imageCount: 3,
    requestedAt: 'r',
  },
};
const completed: TestRunEvent = {
  type: 'TestRunCompleted',
  v: 1,
  data: {
    ...ids,
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
    durationMs: 5,
    completedAt: 'c',
  },
};

describe('test runs projection', () => {
  it('follows a run from requested to completed; applying an event twice changes nothing', async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new TestRunsProjection();
    const view = () => store.collection<TestRunView>(TEST_RUNS).get('t1');
    await projection.apply(recorded(requested, 1, 0), store);
    expect(await view()).toMatchObject({ status: 'requested', imageCount: 3, metrics: null, source: 'split' });
    await projection.apply(recorded(completed, 2, 1), store);
    await projection.apply(recorded(completed, 2, 1), store);
    await projection.apply(recorded(requested, 1, 0), store);
    expect(await view()).toMatchObject({
      status: 'completed',
      metrics: { accuracy: 1 },
      predictionsSha256: 'p',
      completedAt: 'c',
      revision: 1,
      embeddings: null,
    });
  });

  it('shows how many embeddings a run on a backbone model computed and took from the cache', async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new TestRunsProjection();
    const fromCache: TestRunEvent = {
      ...completed,
      data: { ...completed.data, embeddings: { computed: 2, reused: 1 } },
    } as TestRunEvent;
    await projection.apply(recorded(requested, 1, 0), store);
    expect(await store.collection<TestRunView>(TEST_RUNS).get('t1')).toMatchObject({ embeddings: null });
    await projection.apply(recorded(fromCache, 2, 1), store);
    expect(await store.collection<TestRunView>(TEST_RUNS).get('t1')).toMatchObject({
      status: 'completed',
      embeddings: { computed: 2, reused: 1 },
    });
  });

  it('keeps the average precisions a classification run recorded when it completed, and none for a run before them', async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new TestRunsProjection();
    const withAp: TestRunEvent = {
      ...completed,
      data: { ...completed.data, averagePrecision: { perLabel: [0.75], map: 0.75 } },
    } as TestRunEvent;
    await projection.apply(recorded(requested, 1, 0), store);
    await projection.apply(recorded(withAp, 2, 1), store);
    expect(await store.collection<TestRunView>(TEST_RUNS).get('t1')).toMatchObject({
      status: 'completed',
      averagePrecision: { perLabel: [0.75], map: 0.75 },
    });

    const before = new InMemoryReadStore();
    await projection.apply(recorded(requested, 1, 0), before);
    await projection.apply(recorded(completed, 2, 1), before);
    expect(await before.collection<TestRunView>(TEST_RUNS).get('t1')).toMatchObject({
      status: 'completed',
      averagePrecision: null,
    });
  });

  it('shows a cancelled run as cancelled, with when it stopped', async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new TestRunsProjection();
    const cancelled: TestRunEvent = { type: 'TestRunCancelled', v: 1, data: { ...ids, cancelledAt: 'x' } };
    await projection.apply(recorded(requested, 1, 0), store);
    await projection.apply(recorded(cancelled, 2, 1), store);
    await projection.apply(recorded(cancelled, 2, 1), store);
    expect(await store.collection<TestRunView>(TEST_RUNS).get('t1')).toMatchObject({
      status: 'cancelled',
      metrics: null,
      completedAt: 'x',
      revision: 1,
    });
  });
});
