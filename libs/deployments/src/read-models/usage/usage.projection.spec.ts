import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type Projection } from '@diyml/read-store/pure';
import {
  addLatency,
  bucketOf,
  type LatencyHistogram,
  latencyPercentile,
  LATENCY_BUCKET_BOUNDS_MS,
} from '../../domain/latency-histogram.js';
import type { DeploymentUsageRecorded } from '../../domain/usage.events.js';
import { UsageQueries } from './usage-queries.js';
import { UsageProjection } from './usage.projection.js';

const metadata = { userId: null, correlationId: 'c1', causationId: null, at: '2026-06-01T10:30:00.000Z' };

function histogram(latencies: number[]): LatencyHistogram {
  const counts: LatencyHistogram = {};
  for (const latency of latencies) addLatency(counts, latency);
  return counts;
}

function recorded(data: Partial<DeploymentUsageRecorded['data']>, position: number): RecordedEvent {
  return {
    id: randomUUID(),
    streamId: 'deployment-usage-d1',
    revision: position,
    position,
    type: 'DeploymentUsageRecorded',
    v: 1,
    data: {
      projectId: 'p1',
      deploymentId: 'd1',
      hour: '2026-06-01T10:00:00.000Z',
      calls: 0,
      errors: {},
      latency: {},
      callers: {},
      ...data,
    },
    metadata,
  };
}

describe('usage projection and reports', () => {
  it('adds flushes of the same hour once each, and reports per hour and per day with percentiles', async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new UsageProjection();
    const first = recorded(
      { calls: 3, errors: { INVALID_IMAGE: 1 }, latency: histogram([10, 10, 10]), callers: { 'deployment-key': 3 } },
      1,
    );
    await projection.apply(first, store);
    await projection.apply(first, store);
    await projection.apply(recorded({ calls: 1, latency: histogram([100]), callers: { u2: 1 } }, 2), store);
    await projection.apply(
      recorded(
        {
          hour: '2026-06-01T11:00:00.000Z',
          calls: 2,
          errors: { TOO_MANY_REQUESTS: 2 },
          latency: histogram([5, 5]),
          callers: { u2: 2 },
        },
        3,
      ),
      store,
    );
    await projection.apply(
      recorded(
        { deploymentId: 'd2', hour: '2026-06-02T01:00:00.000Z', calls: 1, latency: histogram([1]), callers: { u3: 1 } },
        4,
      ),
      store,
    );

    const queries = new UsageQueries(store);
    const hourly = await queries.report({ projectId: 'p1', deploymentId: 'd1' }, 'hour', {});
    expect(hourly.periods.map((period) => [period.start, period.calls, period.errorCount])).toEqual([
      ['2026-06-01T10:00:00.000Z', 4, 1],
      ['2026-06-01T11:00:00.000Z', 2, 2],
    ]);
    expect(hourly.totals.errors).toEqual({ INVALID_IMAGE: 1, TOO_MANY_REQUESTS: 2 });
    expect(hourly.callers).toEqual([
      { callerId: 'deployment-key', calls: 3 },
      { callerId: 'u2', calls: 3 },
    ]);
    const p50 = hourly.periods[0].latencyMs.p50!;
    expect(p50).toBeGreaterThan(LATENCY_BUCKET_BOUNDS_MS[bucketOf(10) - 1]);
    expect(p50).toBeLessThanOrEqual(LATENCY_BUCKET_BOUNDS_MS[bucketOf(10)]);
    expect(hourly.periods[0].latencyMs.p99).toBeGreaterThan(80);

    const daily = await queries.report({ projectId: 'p1' }, 'day', {});
    expect(daily.periods.map((period) => [period.start, period.calls])).toEqual([
      ['2026-06-01T00:00:00.000Z', 6],
      ['2026-06-02T00:00:00.000Z', 1],
    ]);
    const ranged = await queries.report({ projectId: 'p1' }, 'hour', {
      from: '2026-06-01T10:59:00.000Z',
      to: '2026-06-02T00:00:00.000Z',
    });
    expect(ranged.totals.calls).toBe(6);
  });

  it('puts every latency in a bucket at most 25 % wide and interpolates inside it', () => {
    for (const latency of [0.1, 3, 47, 1234, 500_000]) {
      const p50 = latencyPercentile(histogram([latency]), 0.5)!;
      expect(
        Math.abs(p50 - Math.min(latency, LATENCY_BUCKET_BOUNDS_MS.at(-1)!)) / Math.max(latency, 1),
      ).toBeLessThanOrEqual(0.25);
    }
    expect(latencyPercentile({}, 0.5)).toBeNull();
  });
});
