import { describe, expect, it } from 'vitest';
import { iou } from '@diyml/ml';
import { saliencyProposals } from './saliency-proposals.js';

const SIDE = 28;
const CHANNELS = 4;

/** Faint activations everywhere, strong ones over the given cell rectangles. */
function featureMap(objects: { left: number; top: number; right: number; bottom: number }[]) {
  const values = new Float32Array(SIDE * SIDE * CHANNELS).map((_, index) => 0.1 + ((index * 7919) % 13) / 130);
  for (const { left, top, right, bottom } of objects) {
    for (let y = top; y <= bottom; y++)
      for (let x = left; x <= right; x++) values.fill(3, (y * SIDE + x) * CHANNELS, (y * SIDE + x + 1) * CHANNELS);
  }
  return { values, side: SIDE, channels: CHANNELS };
}

const fraction = ({ left, top, right, bottom }: { left: number; top: number; right: number; bottom: number }) => ({
  x: left / SIDE,
  y: top / SIDE,
  width: (right - left + 1) / SIDE,
  height: (bottom - top + 1) / SIDE,
});

describe('saliencyProposals', () => {
  it('proposes a box on each region whose features are strong, scored in (0, 1]', () => {
    const objects = [
      { left: 2, top: 3, right: 9, bottom: 8 },
      { left: 14, top: 12, right: 25, bottom: 24 },
    ];
    const proposals = saliencyProposals(featureMap(objects), 50);
    for (const object of objects)
      expect(Math.max(...proposals.map((proposal) => iou(proposal, fraction(object))))).toBeGreaterThan(0.7);
    expect(proposals.every((proposal) => proposal.score > 0 && proposal.score <= 1)).toBe(true);
    expect(proposals.map((proposal) => proposal.score)).toEqual(
      [...proposals.map((proposal) => proposal.score)].sort((a, b) => b - a),
    );
  });

  it('keeps at most the number asked for, and proposes nothing on features that are the same everywhere', () => {
    expect(saliencyProposals(featureMap([{ left: 4, top: 4, right: 20, bottom: 20 }]), 1)).toHaveLength(1);
    expect(
      saliencyProposals(
        { values: new Float32Array(SIDE * SIDE * CHANNELS).fill(1), side: SIDE, channels: CHANNELS },
        50,
      ),
    ).toEqual([]);
  });
});
