import type { BatchReport } from '@diyml/ml';

/**
 * Where a training run is within its epoch, as the training job reports it through its queue (JobContext
 * reportProgress): transient, for people watching, never an event. Versioned, as a worker of another release may
 * have written it to Redis.
 *
 * The run's size (batchSize, trainingImages, validationImages) was added to v1 as fields a record may lack rather
 * than as a v2: an api of the release before ignores fields it does not know and keeps showing a newer worker's
 * progress, where a v2 would blank it; a record of an older worker reads with the size unknown (null).
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
  /** Images each step learns from; null in a record of a worker that did not report it. */
  batchSize: number | null;
  trainingImages: number | null;
  validationImages: number | null;
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
    batchSize: report.batchSize,
    trainingImages: report.trainingImages,
    validationImages: report.validationImages,
    reportedAt: reportedAt.toISOString(),
  };
}

/** A number a progress record may carry: JSON from Redis, so anything else (NaN, a string) is not this release's. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** The job's progress when it is batch progress this release reads; null for anything else. */
export function parseBatchProgress(progress: Record<string, unknown> | null): BatchProgress | null {
  if (progress === null) return null;
  const { v, attempt, epoch, epochs, batch, batches, elapsedMs, imagesPerSecond, reportedAt } = progress;
  if (v !== 1 || typeof reportedAt !== 'string') return null;
  if (
    !isFiniteNumber(attempt) ||
    !isFiniteNumber(epoch) ||
    !isFiniteNumber(epochs) ||
    !isFiniteNumber(batch) ||
    !isFiniteNumber(batches) ||
    !isFiniteNumber(elapsedMs) ||
    !isFiniteNumber(imagesPerSecond)
  ) {
    return null;
  }
  const sizeOrNull = (value: unknown) => (isFiniteNumber(value) ? value : null);
  return {
    v,
    attempt,
    epoch,
    epochs,
    batch,
    batches,
    elapsedMs,
    imagesPerSecond,
    batchSize: sizeOrNull(progress.batchSize),
    trainingImages: sizeOrNull(progress.trainingImages),
    validationImages: sizeOrNull(progress.validationImages),
    reportedAt,
  };
}
