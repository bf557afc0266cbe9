/**
 * Latencies are counted in fixed buckets (upper bounds in ms, about 25 % apart), so counts from any number of
 * processes, flushes, hours and days add up, and percentiles come from the sums. A percentile is interpolated
 * inside its bucket: it is off by at most the bucket's width.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let bound = 0.5; bound < 120_000; bound *= 1.25) bounds.push(Number(bound.toPrecision(3)));
  return bounds;
})();

/** Counts per bucket index (sparse: absent buckets are empty). The last index holds everything slower. */
export type LatencyHistogram = Record<string, number>;

export function bucketOf(latencyMs: number): number {
  const index = LATENCY_BUCKET_BOUNDS_MS.findIndex((bound) => latencyMs <= bound);
  return index < 0 ? LATENCY_BUCKET_BOUNDS_MS.length : index;
}

export function addLatency(histogram: LatencyHistogram, latencyMs: number): void {
  const bucket = String(bucketOf(latencyMs));
  histogram[bucket] = (histogram[bucket] ?? 0) + 1;
}

export function mergeCounts(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
  return into;
}

/** The latency (ms) under which `quantile` of the calls finished, or null without calls. */
export function latencyPercentile(histogram: LatencyHistogram, quantile: number): number | null {
  const buckets = Object.entries(histogram)
    .map(([bucket, count]) => [Number(bucket), count] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = quantile * total;
  let seen = 0;
  for (const [bucket, count] of buckets) {
    if (seen + count >= rank) {
      const lower = bucket === 0 ? 0 : LATENCY_BUCKET_BOUNDS_MS[bucket - 1];
      const upper = LATENCY_BUCKET_BOUNDS_MS[bucket] ?? lower;
      const within = count === 0 ? 1 : (rank - seen) / count;
      return Number((lower + (upper - lower) * within).toFixed(2));
    }
    seen += count;
  }
  return LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1];
}
