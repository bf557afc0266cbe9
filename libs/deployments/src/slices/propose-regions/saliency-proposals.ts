import { nonMaxSuppression, type ScoredBox } from '@diyml/ml';

/** Activations of one backbone layer for one image: `side` × `side` cells of `channels` values, channels last. */
export interface FeatureMap {
  values: Float32Array;
  side: number;
  channels: number;
}

/** Saliency levels a region is cut at: low ones give whole objects, high ones their most salient parts. */
const LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/** Cells each side of a cell averaged into its saliency: joins the parts of thin objects (a fork's tines). */
const SMOOTHING_RADIUS = 2;
/** Boxes overlapping more than this are one candidate. */
const SAME_OBJECT_IOU = 0.7;
const NEIGHBOURS = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
  [1, 1],
  [1, -1],
  [-1, 1],
  [-1, -1],
] as const;

/**
 * Class-agnostic candidate boxes from a pretrained backbone's features, for images no detector was trained on:
 * a cell's saliency is the L2 norm of its activations (pretrained features fire on objects more than on plain
 * background), smoothed and scaled to [0, 1]; every 8-connected region above each of several levels gives its
 * bounding box (fractions of the image), scored by the region's mean saliency. Overlapping boxes are merged
 * (non-maximum suppression) and the `max` best kept.
 */
export function saliencyProposals(map: FeatureMap, max: number): ScoredBox[] {
  const { side } = map;
  const saliency = smoothed(cellNorms(map), side);
  const candidates: ScoredBox[] = [];
  for (const level of LEVELS) {
    const seen = new Uint8Array(side * side);
    for (let start = 0; start < saliency.length; start++) {
      if (seen[start] || saliency[start] <= level) continue;
      seen[start] = 1;
      const pending = [start];
      let [left, top, right, bottom, total, count] = [side, side, -1, -1, 0, 0];
      while (pending.length > 0) {
        const cell = pending.pop()!;
        const x = cell % side;
        const y = (cell - x) / side;
        [left, right, top, bottom] = [Math.min(left, x), Math.max(right, x), Math.min(top, y), Math.max(bottom, y)];
        total += saliency[cell];
        count += 1;
        for (const [dx, dy] of NEIGHBOURS) {
          const [nx, ny] = [x + dx, y + dy];
          const neighbour = ny * side + nx;
          if (nx < 0 || ny < 0 || nx >= side || ny >= side || seen[neighbour] || saliency[neighbour] <= level) continue;
          seen[neighbour] = 1;
          pending.push(neighbour);
        }
      }
      candidates.push({
        x: left / side,
        y: top / side,
        width: (right - left + 1) / side,
        height: (bottom - top + 1) / side,
        label: 0,
        score: total / count,
      });
    }
  }
  return nonMaxSuppression(candidates, SAME_OBJECT_IOU, max);
}

function cellNorms({ values, side, channels }: FeatureMap): Float32Array {
  const norms = new Float32Array(side * side);
  for (let cell = 0; cell < norms.length; cell++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++) sum += values[cell * channels + channel] ** 2;
    norms[cell] = Math.sqrt(sum);
  }
  return norms;
}

/** A box blur of SMOOTHING_RADIUS, then scaled so the least salient cell is 0 and the most 1. */
function smoothed(norms: Float32Array, side: number): Float32Array {
  const result = new Float32Array(norms.length);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let [sum, count] = [0, 0];
      for (let ny = Math.max(0, y - SMOOTHING_RADIUS); ny <= Math.min(side - 1, y + SMOOTHING_RADIUS); ny++) {
        for (let nx = Math.max(0, x - SMOOTHING_RADIUS); nx <= Math.min(side - 1, x + SMOOTHING_RADIUS); nx++) {
          sum += norms[ny * side + nx];
          count += 1;
        }
      }
      result[y * side + x] = sum / count;
    }
  }
  let [low, high] = [Infinity, -Infinity];
  for (const value of result) [low, high] = [Math.min(low, value), Math.max(high, value)];
  for (let cell = 0; cell < result.length; cell++) result[cell] = high > low ? (result[cell] - low) / (high - low) : 0;
  return result;
}
