import { describe, expect, it } from 'vitest';
import {
  accuracy,
  classificationAveragePrecision,
  classificationMetrics,
  classificationMetricsAtThreshold,
  predictAtThreshold,
} from './classification-metrics.js';

describe('classification metrics', () => {
  const labels = ['cat', 'dog', 'fox'];
  // cat: one right, one taken for a dog; dog: both right; fox: below threshold (no prediction).
  const expected = [0, 0, 1, 1, 2];
  const predicted = [0, 1, 1, 1, null];

  it('counts a missing prediction as wrong in accuracy', () => {
    expect(accuracy(expected, predicted)).toBeCloseTo(0.6);
  });

  it('computes the confusion matrix with a no-prediction column', () => {
    const { confusionMatrix } = classificationMetrics(expected, predicted, labels);
    expect(confusionMatrix.labels).toEqual(labels);
    expect(confusionMatrix.matrix).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [0, 0, 0],
    ]);
    expect(confusionMatrix.noPrediction).toEqual([0, 0, 1]);
  });

  it('computes per-label precision, recall, F1 and support', () => {
    const { perLabel } = classificationMetrics(expected, predicted, labels);
    expect(perLabel.map((m) => m.support)).toEqual([2, 2, 1]);
    expect(perLabel[0].precision).toBeCloseTo(1);
    expect(perLabel[0].recall).toBeCloseTo(0.5);
    expect(perLabel[0].f1).toBeCloseTo(2 / 3);
    expect(perLabel[1].precision).toBeCloseTo(2 / 3);
    expect(perLabel[1].recall).toBeCloseTo(1);
    expect(perLabel[1].f1).toBeCloseTo(0.8);
    expect(perLabel[2]).toEqual({ label: 'fox', precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it('macro-averages over the labels that occur', () => {
    const metrics = classificationMetrics(expected, predicted, [...labels, 'unused']);
    expect(metrics.precision).toBeCloseTo((1 + 2 / 3 + 0) / 3);
    expect(metrics.recall).toBeCloseTo((0.5 + 1 + 0) / 3);
    expect(metrics.f1).toBeCloseTo((2 / 3 + 0.8 + 0) / 3);
  });

  it('treats a best probability below the threshold as no prediction', () => {
    const probabilities = [
      [0.9, 0.1],
      [0.4, 0.6],
      [0.55, 0.45],
    ];
    expect(predictAtThreshold(probabilities, 0.58)).toEqual([0, 1, null]);
    const metrics = classificationMetricsAtThreshold([0, 1, 1], probabilities, ['a', 'b'], 0.58);
    expect(metrics.accuracy).toBeCloseTo(2 / 3);
    expect(metrics.perLabel[1].recall).toBeCloseTo(0.5);
    expect(metrics.perLabel[1].precision).toBeCloseTo(1);
    expect(classificationMetricsAtThreshold([0, 1, 1], probabilities, ['a', 'b'], 0).accuracy).toBeCloseTo(2 / 3);
  });

  it('refuses predictions that do not line up with the labels', () => {
    expect(() => accuracy([0, 1], [0])).toThrow(RangeError);
  });

  describe('average precision of a label', () => {
    /** Two labels; only label 0's probability matters, label 1's is its complement. */
    const rows = (label0: number[]) => label0.map((p) => [p, 1 - p]);

    it('averages the precision at each example that truly has the label, ranked by its probability', () => {
      // Ranked: a(0) b(1) c(0) d(1) e(0): precision 1/1 at a, 2/3 at c, 3/5 at e.
      expect(classificationAveragePrecision([0, 1, 0, 1, 0], rows([0.9, 0.8, 0.7, 0.6, 0.5]), 0)).toBeCloseTo(
        (1 + 2 / 3 + 3 / 5) / 3,
        12,
      );
      // Label 1 ranks them backwards: e(0) d(1) c(0) b(1) a(0), precision 1/2 at d and 2/4 at b.
      expect(classificationAveragePrecision([0, 1, 0, 1, 0], rows([0.9, 0.8, 0.7, 0.6, 0.5]), 1)).toBeCloseTo(
        (1 / 2 + 2 / 4) / 2,
        12,
      );
      expect(classificationAveragePrecision([0, 1, 0], rows([0.9, 0.2, 0.7]), 0)).toBe(1);
    });

    it('counts examples of equal probability as one step, whatever their order', () => {
      // After 0.9: recall 1/2 at precision 1; the tie at 0.6 adds recall 1/2 at precision 2/3.
      const expectedAp = 0.5 * 1 + 0.5 * (2 / 3);
      expect(classificationAveragePrecision([0, 1, 0], rows([0.9, 0.6, 0.6]), 0)).toBeCloseTo(expectedAp, 12);
      expect(classificationAveragePrecision([0, 0, 1], rows([0.9, 0.6, 0.6]), 0)).toBeCloseTo(expectedAp, 12);
      expect(classificationAveragePrecision([0, 1, 1, 0], rows([0.5, 0.5, 0.5, 0.5]), 0)).toBeCloseTo(0.5, 12);
    });

    it('is 0 for a label no example truly has', () => {
      expect(classificationAveragePrecision([1, 1], rows([0.9, 0.2]), 0)).toBe(0);
    });

    it('refuses probabilities that do not line up with the labels', () => {
      expect(() => classificationAveragePrecision([0, 1], rows([0.9]), 0)).toThrow(RangeError);
    });
  });
});
