import { describe, expect, it } from 'vitest';
import { metricsWithApOf } from '@diyml/training/pure';
import { iterationPerformance } from './performance.js';

describe('Custom Vision iteration performance', () => {
  it('names tags by the iteration labels, in model-output order, with precision and recall at the threshold', () => {
    const performance = iterationPerformance(
      {
        v: 1,
        task: 'classification',
        labels: ['red', 'blue'],
        expected: [0, 0, 1, 1],
        probabilities: [
          [0.9, 0.1],
          [0.6, 0.4],
          [0.3, 0.7],
          [0.45, 0.55],
        ],
      },
      [
        { id: 'id-red', name: 'red' },
        { id: 'id-blue', name: 'blue' },
      ],
      { threshold: 0.5, overlapThreshold: 0.3 },
    );
    expect(
      performance.perTagPerformance.map((tag) => [tag.id, tag.name, tag.precision, tag.recall, tag.averagePrecision]),
    ).toEqual([
      ['id-red', 'red', 1, 1, 1],
      ['id-blue', 'blue', 1, 1, 1],
    ]);
    expect(performance).toMatchObject({ precision: 1, recall: 1, averagePrecision: 1, precisionStdDeviation: 0 });
    const strict = iterationPerformance(
      {
        v: 1,
        task: 'classification',
        labels: ['red', 'blue'],
        expected: [0, 0, 1, 1],
        probabilities: [
          [0.9, 0.1],
          [0.6, 0.4],
          [0.3, 0.7],
          [0.45, 0.55],
        ],
      },
      [
        { id: 'id-red', name: 'red' },
        { id: 'id-blue', name: 'blue' },
      ],
      { threshold: 0.8, overlapThreshold: 0.3 },
    );
    expect(strict.recall).toBe(0.25);
    expect(strict.averagePrecision).toBe(1);
  });

  it('averages the tags some validation image carries, as the iteration metrics give mAP, not a tag without any', () => {
    // Ranked by p(red): red blue red, so AP(red) = (1 + 2/3) / 2; blue's one image ranks first by p(blue).
    const evaluation = {
      v: 1 as const,
      task: 'classification' as const,
      labels: ['red', 'blue', 'green'],
      expected: [0, 1, 0],
      probabilities: [
        [0.8, 0.1, 0.1],
        [0.6, 0.3, 0.1],
        [0.5, 0.2, 0.3],
      ],
    };
    const performance = iterationPerformance(
      evaluation,
      [
        { id: 'id-red', name: 'red' },
        { id: 'id-blue', name: 'blue' },
        { id: 'id-green', name: 'green' },
      ],
      { threshold: 0.5, overlapThreshold: 0.3 },
    );
    const redAp = (1 + 2 / 3) / 2;
    expect(performance.perTagPerformance.map((tag) => [tag.name, tag.averagePrecision])).toEqual([
      ['red', expect.closeTo(redAp, 12)],
      ['blue', 1],
      ['green', 0],
    ]);
    expect(performance.averagePrecision).toBeCloseTo((redAp + 1) / 2, 12);
    const metrics = metricsWithApOf(evaluation, { threshold: 0.5, overlapThreshold: 0.3 });
    expect(metrics.task === 'classification' && metrics.map).toBe(performance.averagePrecision);
  });
});
