import { describe, expect, it } from 'vitest';
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
});
