import type { PreparationReport } from '@diyml/ml';
import { isFiniteNumber } from './batch-progress.js';

/** Phases before the first epoch: the job reads the images' blobs, then the training thread runs the others. */
export const PREPARATION_PHASES = ['reading', 'decoding', 'embedding', 'feature-maps'] as const;
export type PreparationStep = (typeof PREPARATION_PHASES)[number];

/** Preparation progress is for people watching: at most four reports a second. */
const PREPARATION_REPORT_INTERVAL_MS = 250;

/**
 * Where a training run is before its first epoch, as the training job reports it through its queue (JobContext
 * reportProgress): transient, never an event. Versioned, as a worker of another release may have written it to Redis.
 */
export interface PreparationProgress {
  v: 1;
  attempt: number;
  phase: PreparationStep;
  done: number;
  total: number;
  cached: number;
  elapsedMs: number;
  perSecond: number;
  reportedAt: string;
}

export function toPreparationProgress(
  report: Omit<PreparationReport, 'phase'> & { phase: PreparationStep },
  attempt: number,
  reportedAt: Date,
): PreparationProgress {
  return {
    v: 1,
    attempt,
    phase: report.phase,
    done: report.done,
    total: report.total,
    cached: report.cached,
    elapsedMs: Math.round(report.elapsedMs),
    perSecond: Math.round(report.perSecond * 10) / 10,
    reportedAt: reportedAt.toISOString(),
  };
}

/** The job's progress when it is preparation progress this release reads; null for anything else. */
export function parsePreparationProgress(progress: Record<string, unknown> | null): PreparationProgress | null {
  if (progress === null) return null;
  const { v, attempt, done, total, cached, elapsedMs, perSecond, reportedAt } = progress;
  if (v !== 1 || typeof reportedAt !== 'string') return null;
  const phase = PREPARATION_PHASES.find((known) => known === progress.phase);
  if (phase === undefined) return null;
  if (
    !isFiniteNumber(attempt) ||
    !isFiniteNumber(done) ||
    !isFiniteNumber(total) ||
    !isFiniteNumber(cached) ||
    !isFiniteNumber(elapsedMs) ||
    !isFiniteNumber(perSecond)
  ) {
    return null;
  }
  return { v, attempt, phase, done, total, cached, elapsedMs, perSecond, reportedAt };
}

/**
 * Passes on at most four reports a second; a phase's start and end always go through, so watchers see every phase
 * and its total.
 */
export function throttlePreparation<T extends { done: number; total: number }>(
  send: (report: T) => void,
): (report: T) => void {
  let lastSent = -Infinity;
  return (report) => {
    const now = performance.now();
    const boundary = report.done === 0 || report.done === report.total;
    if (!boundary && now - lastSent < PREPARATION_REPORT_INTERVAL_MS) return;
    lastSent = now;
    send(report);
  };
}
