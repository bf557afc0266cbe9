import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toBatchProgress } from './batch-progress.js';
import { parsePreparationProgress, throttlePreparation, toPreparationProgress } from './preparation-progress.js';

describe('preparation progress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("passes on at most four reports a second, but always a phase's start and end", () => {
    const sent: number[] = [];
    const report = throttlePreparation((progress: { done: number; total: number }) => sent.push(progress.done));
    for (let done = 0; done <= 100; done++) {
      report({ done, total: 100 });
      vi.advanceTimersByTime(10);
    }
    // 0, then one every 250 ms (each 25 reports), then the end.
    expect(sent).toEqual([0, 25, 50, 75, 100]);
  });

  it('reads back what the job reported, and nothing else as preparation (batch progress, another version)', () => {
    const reportedAt = new Date('2026-12-02T10:00:00Z');
    const progress = toPreparationProgress(
      { phase: 'feature-maps', done: 12, total: 136, cached: 4, elapsedMs: 1234.5, perSecond: 9.7234 },
      1,
      reportedAt,
    );
    expect(parsePreparationProgress({ ...progress })).toEqual({
      v: 1,
      attempt: 1,
      phase: 'feature-maps',
      done: 12,
      total: 136,
      cached: 4,
      elapsedMs: 1235,
      perSecond: 9.7,
      reportedAt: '2026-12-02T10:00:00.000Z',
    });
    const batch = toBatchProgress(
      {
        epoch: 1,
        epochs: 2,
        batch: 1,
        batches: 3,
        elapsedMs: 5,
        imagesPerSecond: 1,
        batchSize: 2,
        trainingImages: 6,
        validationImages: 0,
      },
      1,
      reportedAt,
    );
    expect(parsePreparationProgress({ ...batch })).toBeNull();
    expect(parsePreparationProgress({ ...progress, v: 2 })).toBeNull();
    expect(parsePreparationProgress({ ...progress, phase: 'warming-up' })).toBeNull();
    expect(parsePreparationProgress(null)).toBeNull();
  });

  it('reads nothing from a malformed record: a missing field, a number as text, a phase that is not text', () => {
    const progress = toPreparationProgress(
      { phase: 'reading', done: 3, total: 10, cached: 0, elapsedMs: 20, perSecond: 150 },
      2,
      new Date('2026-12-02T10:00:00Z'),
    );
    const { total: _, ...withoutTotal } = progress;
    expect(parsePreparationProgress(withoutTotal)).toBeNull();
    expect(parsePreparationProgress({ ...progress, done: '3' })).toBeNull();
    expect(parsePreparationProgress({ ...progress, phase: 0 })).toBeNull();
    expect(parsePreparationProgress({ ...progress, reportedAt: null })).toBeNull();
    expect(parsePreparationProgress({ ...progress, extra: 1 })).toEqual(progress);
  });
});
