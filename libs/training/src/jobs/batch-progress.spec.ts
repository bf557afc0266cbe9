import { describe, expect, it } from 'vitest';
import { parseBatchProgress, toBatchProgress } from './batch-progress.js';

describe('batch progress', () => {
  const reported = toBatchProgress(
    {
      epoch: 2,
      epochs: 5,
      batch: 7,
      batches: 12,
      elapsedMs: 3456.7,
      imagesPerSecond: 123.456,
      batchSize: 32,
      trainingImages: 1200,
      validationImages: 300,
    },
    1,
    new Date('2026-12-02T10:00:00Z'),
  );

  it('reads back what the job reported, and only the fields this release knows', () => {
    expect(parseBatchProgress({ ...reported, addedByANewerRelease: true })).toEqual({
      v: 1,
      attempt: 1,
      epoch: 2,
      epochs: 5,
      batch: 7,
      batches: 12,
      elapsedMs: 3457,
      imagesPerSecond: 123.5,
      batchSize: 32,
      trainingImages: 1200,
      validationImages: 300,
      reportedAt: '2026-12-02T10:00:00.000Z',
    });
  });

  it("reads a record of a worker that did not report the run's size, with the size unknown", () => {
    // As the release before this one wrote it to Redis.
    const older = {
      v: 1,
      attempt: 1,
      epoch: 2,
      epochs: 5,
      batch: 7,
      batches: 12,
      elapsedMs: 3457,
      imagesPerSecond: 123.5,
      reportedAt: '2026-12-02T10:00:00.000Z',
    };
    expect(parseBatchProgress(older)).toEqual({
      ...older,
      batchSize: null,
      trainingImages: null,
      validationImages: null,
    });
    expect(parseBatchProgress({ ...older, batchSize: '32' })?.batchSize).toBeNull();
  });

  it('reads nothing from a malformed record: a missing field, a number as text, null, another version', () => {
    const { batches: _, ...withoutBatches } = reported;
    expect(parseBatchProgress(withoutBatches)).toBeNull();
    expect(parseBatchProgress({ ...reported, epoch: '2' })).toBeNull();
    expect(parseBatchProgress({ ...reported, imagesPerSecond: null })).toBeNull();
    expect(parseBatchProgress({ ...reported, reportedAt: 0 })).toBeNull();
    expect(parseBatchProgress({ ...reported, v: 2 })).toBeNull();
    expect(parseBatchProgress(null)).toBeNull();
  });
});
