import { describe, expect, it } from 'vitest';
import {
  accuracy,
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
});
