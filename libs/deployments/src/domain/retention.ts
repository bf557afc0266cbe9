import type { PredictionStoreSettings } from './deployment.events.js';

const DAY_MS = 86_400_000;

/**
 * The stored predictions a deployment's retention limits no longer allow: the oldest beyond `maxCount`, and
 * every one older than `maxAgeDays`. `oldestFirst` is sorted by storage time.
 */
export function beyondRetention<T extends { storedAt: string }>(
  oldestFirst: readonly T[],
  limits: Pick<PredictionStoreSettings, 'maxCount' | 'maxAgeDays'>,
  now: Date,
): T[] {
  const overCount = limits.maxCount === null ? 0 : Math.max(0, oldestFirst.length - limits.maxCount);
  const oldestAllowed =
    limits.maxAgeDays === null ? Number.NEGATIVE_INFINITY : now.getTime() - limits.maxAgeDays * DAY_MS;
  return oldestFirst.filter((stored, index) => index < overCount || Date.parse(stored.storedAt) < oldestAllowed);
}
