import { describe, expect, it } from 'vitest';
import { multilabelMetrics } from './multilabel-metrics.js';

describe('multilabel metrics', () => {
  const labels = ['dog', 'outdoor', 'night'];
  // Four images: their labels, and every label's independent probability.
  const expected = [[0, 1], [1], [0, 2], []];
  const probabilities = [
    [0.9, 0.8, 0.1],
    [0.6, 0.7, 0.2],
    [0.8, 0.3, 0.4],
    [0.1, 0.2, 0.3],
  ];

  it('counts each (image, label) decision at the threshold: per label and over all of them', () => {
    const metrics = multilabelMetrics(expected, probabilities, labels, 0.5);
    // dog given to images 0, 1, 2 (right for 0 and 2); outdoor to 0 and 1 (both right); night to none (1 expected).
    expect(
      metrics.perLabel.map(({ label, precision, recall, support }) => [label, precision, recall, support]),
    ).toEqual([
      ['dog', 2 / 3, 1, 2],
      ['outdoor', 1, 1, 2],
      ['night', 0, 0, 1],
    ]);
    // 4 right of 5 given, 4 found of 5 carried.
    expect(metrics.precision).toBeCloseTo(4 / 5);
    expect(metrics.recall).toBeCloseTo(4 / 5);
    expect(metrics.exactMatch).toBeCloseTo(2 / 4);
  });

  it('ranks each label over the images for AP, whatever the threshold, and averages the labels some image carries', () => {
    const metrics = multilabelMetrics(expected, probabilities, labels, 0.99);
    // dog ranks images 0 (0.9), 2 (0.8), 1 (0.6): both carriers first. night ranks image 2 (0.4) first: its carrier.
    expect(metrics.perLabel.map((label) => label.ap)).toEqual([1, 1, 1]);
    expect(metrics.map).toBe(1);
    expect(metrics.recall).toBe(0);
    const unseen = multilabelMetrics(
      [[0], [0]],
      [
        [0.9, 0.8],
        [0.7, 0.1],
      ],
      ['dog', 'cat'],
      0.5,
    );
    // cat is carried by no image: its AP is not part of the mean.
    expect(unseen.map).toBe(1);
  });

  it('refuses as many label sets as predictions only', () => {
    expect(() => multilabelMetrics([[0]], [], labels, 0.5)).toThrow(RangeError);
  });
});
