import * as tf from '@tensorflow/tfjs-core';
import { nonMaxSuppression, type ScoredBox } from '../boxes/box.js';
import type { DecodeOptions, ExampleTarget, RawPrediction } from './architecture.js';

/**
 * Anchor-free grid head (YOLO-v1/CenterNet style). For each of G×G cells the model outputs, unactivated:
 * [objectness, centre x, centre y, width, height, class scores…]. The cell holding a box's centre is responsible for
 * it: objectness 1, centre as sigmoid offset inside the cell, size as sigmoid fraction of the image, class by softmax.
 */
const OBJECTNESS = 0;
const BOX = 1;
const BOX_VALUES = 4;
const CLASSES = BOX + BOX_VALUES;

/** Empty cells vastly outnumber occupied ones; weigh each less. */
const EMPTY_CELL_WEIGHT = 0.5;
const BOX_WEIGHT = 5;

function gridOf(outputShape: readonly number[]): { rows: number; columns: number; labelCount: number } {
  const [rows, columns, depth] = outputShape.slice(-3) as [number, number, number];
  return { rows, columns, labelCount: depth - CLASSES };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export const detectionHead = {
  encodeTargets(targets: readonly ExampleTarget[], outputShape: readonly number[]): tf.Tensor {
    const { rows, columns, labelCount } = gridOf(outputShape);
    const depth = CLASSES + labelCount;
    const data = new Float32Array(targets.length * rows * columns * depth);
    targets.forEach((target, index) => {
      for (const box of target.boxes ?? []) {
        if (box.label < 0 || box.label >= labelCount)
          throw new RangeError(`example ${index} has a box with label ${box.label}, expected [0, ${labelCount})`);
        const centerX = Math.min(0.999999, Math.max(0, box.x + box.width / 2)) * columns;
        const centerY = Math.min(0.999999, Math.max(0, box.y + box.height / 2)) * rows;
        const [column, row] = [Math.floor(centerX), Math.floor(centerY)];
        const cell = ((index * rows + row) * columns + column) * depth;
        data.fill(0, cell, cell + depth);
        data[cell + OBJECTNESS] = 1;
        data.set([centerX - column, centerY - row, box.width, box.height], cell + BOX);
        data[cell + CLASSES + box.label] = 1;
      }
    });
    return tf.tensor4d(data, [targets.length, rows, columns, depth]);
  },

  loss(targets: tf.Tensor, outputs: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const depth = outputs.shape[outputs.shape.length - 1];
      const take = (tensor: tf.Tensor, start: number, size: number) =>
        tf.slice(tensor, [0, 0, 0, start], [-1, -1, -1, size]);
      const occupied = take(targets, OBJECTNESS, 1);
      const objectness = take(outputs, OBJECTNESS, 1);
      const occupiedCount = tf.maximum(tf.sum(occupied), 1);
      // Binary cross-entropy on logits, in the numerically stable form.
      const crossEntropy = tf.add(
        tf.sub(tf.relu(objectness), tf.mul(objectness, occupied)),
        tf.log1p(tf.exp(tf.neg(tf.abs(objectness)))),
      );
      const cellWeights = tf.add(occupied, tf.mul(tf.sub(1, occupied), EMPTY_CELL_WEIGHT));
      const objectnessLoss = tf.sum(tf.mul(crossEntropy, cellWeights));
      const boxError = tf.abs(tf.sub(tf.sigmoid(take(outputs, BOX, BOX_VALUES)), take(targets, BOX, BOX_VALUES)));
      const boxLoss = tf.mul(tf.sum(tf.mul(boxError, occupied)), BOX_WEIGHT);
      const logProbabilities = tf.logSoftmax(take(outputs, CLASSES, depth - CLASSES));
      const classLoss = tf.neg(
        tf.sum(tf.mul(tf.mul(take(targets, CLASSES, depth - CLASSES), logProbabilities), occupied)),
      );
      return tf.div(tf.add(tf.add(objectnessLoss, boxLoss), classLoss), occupiedCount) as tf.Scalar;
    });
  },

  decode(output: Float32Array, outputShape: readonly number[], options: DecodeOptions): RawPrediction[] {
    const { rows, columns, labelCount } = gridOf(outputShape);
    const depth = CLASSES + labelCount;
    const candidates: ScoredBox[] = [];
    for (let row = 0; row < rows; row++) {
      for (let column = 0; column < columns; column++) {
        const cell = (row * columns + column) * depth;
        const objectness = sigmoid(output[cell + OBJECTNESS]);
        if (objectness < options.threshold) continue;
        let best = 0;
        for (let label = 1; label < labelCount; label++)
          if (output[cell + CLASSES + label] > output[cell + CLASSES + best]) best = label;
        let normaliser = 0;
        for (let label = 0; label < labelCount; label++)
          normaliser += Math.exp(output[cell + CLASSES + label] - output[cell + CLASSES + best]);
        const score = objectness / normaliser;
        if (score < options.threshold) continue;
        const centerX = (column + sigmoid(output[cell + BOX])) / columns;
        const centerY = (row + sigmoid(output[cell + BOX + 1])) / rows;
        const width = sigmoid(output[cell + BOX + 2]);
        const height = sigmoid(output[cell + BOX + 3]);
        const left = Math.max(0, centerX - width / 2);
        const top = Math.max(0, centerY - height / 2);
        const right = Math.min(1, centerX + width / 2);
        const bottom = Math.min(1, centerY + height / 2);
        candidates.push({ label: best, score, x: left, y: top, width: right - left, height: bottom - top });
      }
    }
    return nonMaxSuppression(candidates, options.overlapThreshold, options.maxResults).map(({ score, ...box }) => ({
      label: box.label,
      probability: score,
      box,
    }));
  },
};
