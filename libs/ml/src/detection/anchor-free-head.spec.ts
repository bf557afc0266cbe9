import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/backend-selection.js';
import { iou, type LabeledBox } from '../boxes/box.js';
import { anchorFreeHead, headDepth } from './anchor-free-head.js';

const GRID = 8;
const LABELS = 2;
const OUTPUT_SHAPE = [GRID, GRID, headDepth(LABELS)];
const DECODE = { threshold: 0.5, overlapThreshold: 0.45, maxResults: 10 };

/** The output a perfect model would give for these targets: confident classes, exact distances and centre-ness. */
function perfectOutput(targets: Float32Array): Float32Array {
  const targetDepth = LABELS + 6;
  const depth = headDepth(LABELS);
  const output = new Float32Array(GRID * GRID * depth);
  for (let cell = 0; cell < GRID * GRID; cell++) {
    const target = targets.subarray(cell * targetDepth, (cell + 1) * targetDepth);
    const centreness = target[LABELS + 4];
    for (let label = 0; label < LABELS; label++) output[cell * depth + label] = target[label] === 1 ? 12 : -12;
    for (let side = 0; side < 4; side++)
      output[cell * depth + LABELS + side] = centreness > 0 ? Math.log(target[LABELS + side]) : 0;
    output[cell * depth + LABELS + 4] = centreness > 0 ? Math.log(centreness / (1 - centreness + 1e-6)) : -12;
  }
  return output;
}

describe('anchor-free head', () => {
  const boxes: LabeledBox[] = [
    { label: 0, x: 0.05, y: 0.1, width: 0.3, height: 0.4 },
    { label: 1, x: 0.55, y: 0.5, width: 0.4, height: 0.3 },
  ];

  it('decodes the targets of several objects back to their boxes, one per object', async () => {
    await selectBackend();
    const encoded = anchorFreeHead.encodeTargets([{ boxes }], OUTPUT_SHAPE);
    const targets = (await encoded.data()) as Float32Array;
    encoded.dispose();

    const predictions = anchorFreeHead.decode(perfectOutput(targets), OUTPUT_SHAPE, DECODE);
    expect(predictions.map((prediction) => prediction.label).sort()).toEqual([0, 1]);
    for (const prediction of predictions) {
      expect(iou(prediction.box!, boxes[prediction.label])).toBeGreaterThan(0.95);
      expect(prediction.probability).toBeGreaterThan(0.5);
    }
  });

  it('gives a near-perfect output a lower loss than a blank one, and an image without objects nothing to find', async () => {
    await selectBackend();
    const encoded = anchorFreeHead.encodeTargets([{ boxes }], OUTPUT_SHAPE);
    const perfect = tf.tensor4d(perfectOutput((await encoded.data()) as Float32Array), [1, ...OUTPUT_SHAPE] as [
      number,
      number,
      number,
      number,
    ]);
    const blank = tf.zeros([1, ...OUTPUT_SHAPE]);
    const [perfectLoss, blankLoss] = [anchorFreeHead.loss(encoded, perfect), anchorFreeHead.loss(encoded, blank)];
    // Cross-entropy against soft centre-ness targets never reaches 0 (its floor is their entropy), the rest does.
    expect((await perfectLoss.data())[0]).toBeLessThan((await blankLoss.data())[0] / 4);
    tf.dispose([encoded, perfect, blank, perfectLoss, blankLoss]);

    const empty = anchorFreeHead.encodeTargets([{ boxes: [] }], OUTPUT_SHAPE);
    expect(anchorFreeHead.decode(perfectOutput((await empty.data()) as Float32Array), OUTPUT_SHAPE, DECODE)).toEqual(
      [],
    );
    empty.dispose();
  });
});
