import { Injectable } from '@nestjs/common';
import { ReadStore } from '@diyml/read-store';
import { latencyPercentile, mergeCounts } from '../../domain/latency-histogram.js';
import { DEPLOYMENT_USAGE, type HourlyUsageView } from './usage.projection.js';

export type UsageGranularity = 'hour' | 'day';

export interface UsageFigures {
  calls: number;
  errorCount: number;
  errors: Record<string, number>;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

export interface UsageReport {
  granularity: UsageGranularity;
  totals: UsageFigures;
  periods: (UsageFigures & { start: string })[];
  callers: { callerId: string; calls: number }[];
}

interface Sums {
  calls: number;
  errors: Record<string, number>;
  latency: Record<string, number>;
  callers: Record<string, number>;
}

const emptySums = (): Sums => ({ calls: 0, errors: {}, latency: {}, callers: {} });

function add(sums: Sums, hour: HourlyUsageView): void {
  sums.calls += hour.calls;
  mergeCounts(sums.errors, hour.errors);
  mergeCounts(sums.latency, hour.latency);
  mergeCounts(sums.callers, hour.callers);
}

function figures(sums: Sums): UsageFigures {
  return {
    calls: sums.calls,
    errorCount: Object.values(sums.errors).reduce((total, count) => total + count, 0),
    errors: sums.errors,
    latencyMs: {
      p50: latencyPercentile(sums.latency, 0.5),
      p95: latencyPercentile(sums.latency, 0.95),
      p99: latencyPercentile(sums.latency, 0.99),
    },
  };
}

/** Usage reports summed from the hourly documents: per hour or per UTC day, over a time range. */
@Injectable()
export class UsageQueries {
  constructor(private readonly readStore: ReadStore) {}

  async report(
    scope: { projectId: string; deploymentId?: string },
    granularity: UsageGranularity,
    range: { from?: string; to?: string },
  ): Promise<UsageReport> {
    const hours = await this.readStore
      .collection<HourlyUsageView>(DEPLOYMENT_USAGE)
      .findAll(
        scope.deploymentId
          ? { projectId: scope.projectId, deploymentId: scope.deploymentId }
          : { projectId: scope.projectId },
      );
    const totals = emptySums();
    const periods = new Map<string, Sums>();
    for (const hour of hours) {
      if (range.from && hour.hour < range.from.slice(0, 13)) continue;
      if (range.to && hour.hour >= range.to) continue;
      const start = granularity === 'hour' ? hour.hour : `${hour.hour.slice(0, 10)}T00:00:00.000Z`;
      if (!periods.has(start)) periods.set(start, emptySums());
      add(periods.get(start)!, hour);
      add(totals, hour);
    }
    return {
      granularity,
      totals: figures(totals),
      periods: [...periods.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([start, sums]) => ({ start, ...figures(sums) })),
      callers: Object.entries(totals.callers)
        .map(([callerId, calls]) => ({ callerId, calls }))
        .sort((a, b) => b.calls - a.calls || (a.callerId < b.callerId ? -1 : 1)),
    };
  }
}
