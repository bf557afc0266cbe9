import type { BatchReport } from '@diyml/ml';

/**
 * Where a training run is within its epoch, as the training job reports it through its queue (JobContext
 * reportProgress): transient, for people watching, never an event. Versioned, as a worker of another release may
 * have written it to Redis.
 */
export interface BatchProgress {
  v: 1;
  attempt: number;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  elapsedMs: number;
  imagesPerSecond: number;
  reportedAt: string;
}

export function toBatchProgress(report: BatchReport, attempt: number, reportedAt: Date): BatchProgress {
  return {
    v: 1,
    attempt,
    epoch: report.epoch,
    epochs: report.epochs,
    batch: report.batch,
    batches: report.batches,
    elapsedMs: Math.round(report.elapsedMs),
    imagesPerSecond: Math.round(report.imagesPerSecond * 10) / 10,
    reportedAt: reportedAt.toISOString(),
  };
}

const NUMBERS = ['attempt', 'epoch', 'epochs', 'batch', 'batches', 'elapsedMs', 'imagesPerSecond'] as const;

/** The job's progress when it is batch progress this release reads; null for anything else. */
export function parseBatchProgress(progress: Record<string, unknown> | null): BatchProgress | null {
  if (progress?.v !== 1 || typeof progress.reportedAt !== 'string') return null;
  if (!NUMBERS.every((field) => Number.isFinite(progress[field]))) return null;
  return progress as unknown as BatchProgress;
}
