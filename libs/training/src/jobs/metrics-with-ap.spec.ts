import { describe, expect, it } from 'vitest';
import { metricsOf, type StoredEvaluation } from './evaluation.js';
import {
  classificationAveragePrecisionOf,
  metricsWithApOf,
  withClassificationAveragePrecision,
} from './metrics-with-ap.js';

describe('metrics with average precision', () => {
  it('give a classification each label’s AP and their mean over the labels some image carries', () => {
    // Ranked by p(cat): cat dog cat dog cat, so AP(cat) = (1/1 + 2/3 + 3/5) / 3; by p(dog) backwards: (1/2 + 2/4) / 2.
    const metrics = metricsWithApOf(
      {
        v: 1,
        task: 'classification',
        labels: ['cat', 'dog', 'fox'],
        expected: [0, 1, 0, 1, 0],
        probabilities: [0.9, 0.8, 0.7, 0.6, 0.5].map((p) => [p, 1 - p, 0]),
      },
      { threshold: 0, overlapThreshold: 0.5 },
    );
    if (metrics.task !== 'classification') throw new Error(`expected classification metrics, got ${metrics.task}`);
    const catAp = (1 + 2 / 3 + 3 / 5) / 3;
    expect(metrics.perLabel.map((label) => [label.label, label.ap, label.support])).toEqual([
      ['cat', expect.closeTo(catAp, 12), 3],
      ['dog', 0.5, 2],
      ['fox', 0, 0],
    ]);
    // fox has no validation image: its AP of 0 says nothing of the model, so the mean leaves it out.
    expect(metrics.map).toBeCloseTo((catAp + 0.5) / 2, 12);
    // The threshold-dependent figures are those of the metrics at the threshold.
    expect(metrics.accuracy).toBe(3 / 5);
  });

  it('answer the same from average precisions computed once and stored as JSON as from the predictions', () => {
    const evaluation: StoredEvaluation = {
      v: 1,
      task: 'classification',
      labels: ['cat', 'dog', 'fox'],
      expected: [0, 1, 0, 2, 0, 1, 2],
      probabilities: [0.91, 0.37, 0.66, 0.12, 0.58, 0.44, 0.29].map((p) => [p, (1 - p) * 0.7, (1 - p) * 0.3]),
    };
    const options = { threshold: 0.5, overlapThreshold: 0.5 };
    const metrics = metricsOf(evaluation, options);
    if (metrics.task !== 'classification') throw new Error(`expected classification metrics, got ${metrics.task}`);
    const stored = JSON.parse(JSON.stringify(classificationAveragePrecisionOf(metrics, evaluation)));
    expect(withClassificationAveragePrecision(metrics, stored)).toEqual(metricsWithApOf(evaluation, options));
  });

  it('leave multilabel and detection metrics as they are', () => {
    const metrics = metricsWithApOf(
      {
        v: 1,
        task: 'multilabel',
        labels: ['a', 'b'],
        expected: [[0], [1]],
        probabilities: [
          [0.9, 0.1],
          [0.2, 0.8],
        ],
      },
      { threshold: 0.5, overlapThreshold: 0.5 },
    );
    expect(metrics).toMatchObject({ task: 'multilabel', map: 1, exactMatch: 1 });
  });
});
