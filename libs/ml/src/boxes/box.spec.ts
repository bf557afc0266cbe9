import { describe, expect, it } from 'vitest';
import { nonMaxSuppression, votedNonMaxSuppression, type ScoredBox } from './box.js';

const box = (label: number, score: number, x: number, y: number, width: number, height: number): ScoredBox => ({
  label,
  score,
  x,
  y,
  width,
  height,
});

describe('votedNonMaxSuppression', () => {
  const candidates = [
    box(0, 0.9, 0.1, 0.1, 0.4, 0.4),
    box(0, 0.3, 0.2, 0.2, 0.4, 0.4),
    box(1, 0.8, 0.2, 0.2, 0.4, 0.4),
    box(0, 0.5, 0.7, 0.7, 0.2, 0.2),
  ];

  it('keeps the same boxes as plain NMS, with their scores', () => {
    const voted = votedNonMaxSuppression(candidates, 0.3);
    expect(voted.map((kept) => [kept.label, kept.score])).toEqual(
      nonMaxSuppression(candidates, 0.3).map((kept) => [kept.label, kept.score]),
    );
    expect(voted.map((kept) => kept.label)).toEqual([0, 1, 0]);
  });

  it('moves a kept box to the score-weighted mean of the boxes of its label it suppressed', () => {
    const [best, other, alone] = votedNonMaxSuppression(candidates, 0.3);
    // 0.9 × 0.1 + 0.3 × 0.2 over 1.2 for the left and top edges; 0.9 × 0.5 + 0.3 × 0.6 over 1.2 for the right and bottom.
    expect(best.x).toBeCloseTo(0.125);
    expect(best.y).toBeCloseTo(0.125);
    expect(best.width).toBeCloseTo(0.4);
    expect(best.height).toBeCloseTo(0.4);
    // A box of another label or far away takes no votes.
    expect(other.x).toBeCloseTo(0.2);
    expect(other.width).toBeCloseTo(0.4);
    expect(alone.x).toBeCloseTo(0.7);
  });
});
