import * as tf from '@tensorflow/tfjs-core';
import type { DecodeOptions, ExampleTarget, RawPrediction } from '../architectures/architecture.js';
import { votedNonMaxSuppression, type ScoredBox } from '../boxes/box.js';

/**
 * FCOS-style anchor-free head on one feature grid. For each cell the model outputs, unactivated:
 * [class logits…, left, top, right, bottom, centre-ness logit]. The four distances go from the cell's centre to the
 * box's edges, in cells, as logs (so they stay positive). A cell near the centre of a box is responsible for it, so
 * one image can hold as many objects as it has cells; overlapping answers of one class are merged by NMS with box
 * voting.
 *
 * Targets per cell: [class one-hots…, the four distances in cells, centre-ness, weight of the class loss].
 */
const DISTANCES = 4;
const EXTRA_OUTPUTS = DISTANCES + 1;
/** Target channels after the class one-hots: distances, centre-ness, class-loss weight. */
const EXTRA_TARGETS = DISTANCES + 2;

/**
 * A cell is a positive for a box when its centre lies inside the box and within this fraction of the box's half
 * width and height from the box's centre (but at least CENTRE_RADIUS_CELLS cells): FCOS's centre sampling.
 * Cells elsewhere inside a box are left out of the class loss, as they may see the object or the background.
 */
const CENTRE_FRACTION = 0.5;
const CENTRE_RADIUS_CELLS = 1.5;

/** Focal loss (Lin et al.): easy background cells, the vast majority, count for little. */
const FOCAL_GAMMA = 2;
const FOCAL_ALPHA = 0.25;
/** Largest log-distance decoded: e^4 ≈ 55 cells, more than any grid here. */
const MAX_LOG_DISTANCE = 4;

export function classCount(outputShape: readonly number[]): number {
  return outputShape[outputShape.length - 1] - EXTRA_OUTPUTS;
}

/** Channels the head's output has for `labelCount` labels. */
export function headDepth(labelCount: number): number {
  return labelCount + EXTRA_OUTPUTS;
}

function gridOf(outputShape: readonly number[]): { rows: number; columns: number; labelCount: number } {
  const [rows, columns] = outputShape.slice(-3) as [number, number];
  return { rows, columns, labelCount: classCount(outputShape) };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export const anchorFreeHead = {
  encodeTargets(targets: readonly ExampleTarget[], outputShape: readonly number[]): tf.Tensor {
    const { rows, columns, labelCount } = gridOf(outputShape);
    const depth = labelCount + EXTRA_TARGETS;
    const data = new Float32Array(targets.length * rows * columns * depth);
    targets.forEach((target, index) => {
      const boxes = target.boxes ?? [];
      for (const box of boxes) {
        if (box.label < 0 || box.label >= labelCount)
          throw new RangeError(`example ${index} has a box with label ${box.label}, expected [0, ${labelCount})`);
      }
      for (let row = 0; row < rows; row++) {
        for (let column = 0; column < columns; column++) {
          const cell = ((index * rows + row) * columns + column) * depth;
          const [x, y] = [(column + 0.5) / columns, (row + 0.5) / rows];
          let chosen: { label: number; distances: number[]; area: number } | null = null;
          let insideAny = false;
          for (const box of boxes) {
            const distances = [
              (x - box.x) * columns,
              (y - box.y) * rows,
              (box.x + box.width - x) * columns,
              (box.y + box.height - y) * rows,
            ];
            if (Math.min(...distances) <= 0) continue;
            insideAny = true;
            const radiusX = Math.max(CENTRE_RADIUS_CELLS / columns, (CENTRE_FRACTION * box.width) / 2);
            const radiusY = Math.max(CENTRE_RADIUS_CELLS / rows, (CENTRE_FRACTION * box.height) / 2);
            const nearCentre =
              Math.abs(x - (box.x + box.width / 2)) <= radiusX && Math.abs(y - (box.y + box.height / 2)) <= radiusY;
            const area = box.width * box.height;
            // Where boxes overlap, the smaller one is the cell's (the larger one has other cells).
            if (nearCentre && (!chosen || area < chosen.area)) chosen = { label: box.label, distances, area };
          }
          data[cell + depth - 1] = insideAny && !chosen ? 0 : 1;
          if (!chosen) continue;
          const [left, top, right, bottom] = chosen.distances;
          data[cell + chosen.label] = 1;
          data.set(chosen.distances, cell + labelCount);
          data[cell + labelCount + DISTANCES] = Math.sqrt(
            (Math.min(left, right) / Math.max(left, right)) * (Math.min(top, bottom) / Math.max(top, bottom)),
          );
        }
      }
    });
    return tf.tensor4d(data, [targets.length, rows, columns, depth]);
  },

  loss(targets: tf.Tensor, outputs: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const labelCount = outputs.shape[outputs.shape.length - 1] - EXTRA_OUTPUTS;
      const take = (tensor: tf.Tensor, start: number, size: number) =>
        tf.slice(tensor, [0, 0, 0, start], [-1, -1, -1, size]);
      const classTargets = take(targets, 0, labelCount);
      const distanceTargets = take(targets, labelCount, DISTANCES);
      const centreTargets = take(targets, labelCount + DISTANCES, 1);
      const classWeights = take(targets, labelCount + DISTANCES + 1, 1);
      const positive = tf.cast(tf.greater(centreTargets, 0), 'float32');
      const positiveCount = tf.maximum(tf.sum(positive), 1);

      // Sigmoid focal loss per class, in the numerically stable form of cross-entropy on logits.
      const logits = take(outputs, 0, labelCount);
      const probabilities = tf.sigmoid(logits);
      const crossEntropy = tf.add(
        tf.sub(tf.relu(logits), tf.mul(logits, classTargets)),
        tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
      );
      const missed = tf.add(
        tf.mul(classTargets, tf.sub(1, probabilities)),
        tf.mul(tf.sub(1, classTargets), probabilities),
      );
      const alpha = tf.add(tf.mul(classTargets, FOCAL_ALPHA), tf.mul(tf.sub(1, classTargets), 1 - FOCAL_ALPHA));
      const focal = tf.mul(tf.mul(alpha, tf.pow(missed, FOCAL_GAMMA)), crossEntropy);
      const classLoss = tf.div(tf.sum(tf.mul(focal, classWeights)), positiveCount);

      // GIoU of the predicted and the true box, both as distances from the cell's centre, weighted by centre-ness.
      const predicted = tf.exp(
        tf.clipByValue(take(outputs, labelCount, DISTANCES), -MAX_LOG_DISTANCE, MAX_LOG_DISTANCE),
      );
      const [pl, pt, pr, pb] = tf.split(predicted, DISTANCES, -1);
      const [tl, tt, tr, tb] = tf.split(distanceTargets, DISTANCES, -1);
      const predictedArea = tf.mul(tf.add(pl, pr), tf.add(pt, pb));
      const targetArea = tf.mul(tf.add(tl, tr), tf.add(tt, tb));
      const intersection = tf.mul(
        tf.add(tf.minimum(pl, tl), tf.minimum(pr, tr)),
        tf.add(tf.minimum(pt, tt), tf.minimum(pb, tb)),
      );
      const union = tf.sub(tf.add(predictedArea, targetArea), intersection);
      const enclosing = tf.mul(
        tf.add(tf.maximum(pl, tl), tf.maximum(pr, tr)),
        tf.add(tf.maximum(pt, tt), tf.maximum(pb, tb)),
      );
      const safeUnion = tf.maximum(union, 1e-6);
      const giou = tf.sub(
        tf.div(intersection, safeUnion),
        tf.div(tf.sub(enclosing, union), tf.maximum(enclosing, 1e-6)),
      );
      const boxLoss = tf.div(tf.sum(tf.mul(tf.sub(1, giou), centreTargets)), tf.maximum(tf.sum(centreTargets), 1e-6));

      const centreLogits = take(outputs, labelCount + DISTANCES, 1);
      const centreEntropy = tf.add(
        tf.sub(tf.relu(centreLogits), tf.mul(centreLogits, centreTargets)),
        tf.log1p(tf.exp(tf.neg(tf.abs(centreLogits)))),
      );
      const centreLoss = tf.div(tf.sum(tf.mul(centreEntropy, positive)), positiveCount);

      return tf.add(tf.add(classLoss, boxLoss), centreLoss) as tf.Scalar;
    });
  },

  /** Score of a cell and class: √(class probability × centre-ness), FCOS's ranking of boxes. */
  decode(output: Float32Array, outputShape: readonly number[], options: DecodeOptions): RawPrediction[] {
    const { rows, columns, labelCount } = gridOf(outputShape);
    const depth = labelCount + EXTRA_OUTPUTS;
    const candidates: ScoredBox[] = [];
    for (let row = 0; row < rows; row++) {
      for (let column = 0; column < columns; column++) {
        const cell = (row * columns + column) * depth;
        const centreness = sigmoid(output[cell + labelCount + DISTANCES]);
        const distance = (channel: number) =>
          Math.exp(Math.min(MAX_LOG_DISTANCE, Math.max(-MAX_LOG_DISTANCE, output[cell + labelCount + channel])));
        for (let label = 0; label < labelCount; label++) {
          const score = Math.sqrt(sigmoid(output[cell + label]) * centreness);
          if (score < options.threshold) continue;
          const [x, y] = [(column + 0.5) / columns, (row + 0.5) / rows];
          const left = Math.max(0, x - distance(0) / columns);
          const top = Math.max(0, y - distance(1) / rows);
          const right = Math.min(1, x + distance(2) / columns);
          const bottom = Math.min(1, y + distance(3) / rows);
          if (right <= left || bottom <= top) continue;
          candidates.push({ label, score, x: left, y: top, width: right - left, height: bottom - top });
        }
      }
    }
    return votedNonMaxSuppression(candidates, options.overlapThreshold, options.maxResults).map(
      ({ score, ...box }) => ({ label: box.label, probability: score, box }),
    );
  },
};
