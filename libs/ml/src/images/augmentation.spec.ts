import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/backend-selection.js';
import { SeededRandom } from '../random/seeded-random.js';
import { augmentBatch, augmentBoxes, IDENTITY_PLAN, planAugmentation } from './augmentation.js';

const SIZE = 32;

/** A dark grayscale image with a bright square covering columns/rows [x, x + side) × [y, y + side). */
function squareImage(x: number, y: number, side: number): Float32Array {
  const pixels = new Float32Array(SIZE * SIZE);
  for (let row = y; row < y + side; row++)
    for (let column = x; column < x + side; column++) pixels[row * SIZE + column] = 1;
  return pixels;
}

/** Bounding box (in image fractions) of the pixels brighter than one half. */
function brightBox(pixels: Float32Array): { x: number; y: number; width: number; height: number } {
  let [minX, minY, maxX, maxY] = [SIZE, SIZE, -1, -1];
  pixels.forEach((value, index) => {
    if (value < 0.5) return;
    const [x, y] = [index % SIZE, Math.floor(index / SIZE)];
    [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
  });
  return { x: minX / SIZE, y: minY / SIZE, width: (maxX + 1 - minX) / SIZE, height: (maxY + 1 - minY) / SIZE };
}

describe('augmentation', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  it('plans the same changes for the same seed', () => {
    const options = { horizontalFlip: true, cropScale: 0.7, brightness: 0.2 };
    const first = Array.from(
      { length: 5 },
      (
        (random) => () =>
          planAugmentation(options, random)
      )(new SeededRandom(9)),
    );
    const second = Array.from(
      { length: 5 },
      (
        (random) => () =>
          planAugmentation(options, random)
      )(new SeededRandom(9)),
    );
    expect(first).toEqual(second);
    expect(new Set(first.map((plan) => plan.top)).size).toBe(5);
  });

  it('leaves an image unchanged under the identity plan and mirrors it under a flip', () => {
    const image = tf.tensor4d(squareImage(2, 5, 6), [1, SIZE, SIZE, 1]);
    const same = augmentBatch(image, [IDENTITY_PLAN]);
    const flipped = augmentBatch(image, [{ ...IDENTITY_PLAN, flip: true }]);
    expect(Array.from(same.dataSync())).toEqual(Array.from(image.dataSync()).map((v) => expect.closeTo(v, 5)));
    expect(Array.from(flipped.dataSync())).toEqual(
      Array.from(tf.reverse(image, 2).dataSync()).map((v) => expect.closeTo(v, 5)),
    );
  });

  it('shifts brightness within [0, 1]', () => {
    const image = tf.tensor4d(squareImage(0, 0, 4), [1, SIZE, SIZE, 1]);
    const brighter = augmentBatch(image, [{ ...IDENTITY_PLAN, brightnessShift: 0.25 }]).dataSync();
    expect(brighter[0]).toBeCloseTo(1);
    expect(brighter[SIZE * SIZE - 1]).toBeCloseTo(0.25);
  });

  it('moves boxes where the pixels went', () => {
    const random = new SeededRandom(3);
    for (let trial = 0; trial < 8; trial++) {
      const [x, y] = [6 + random.integer(12), 6 + random.integer(12)];
      const image = tf.tensor4d(squareImage(x, y, 8), [1, SIZE, SIZE, 1]);
      const plan = planAugmentation({ cropScale: 0.75, brightness: 0, horizontalFlip: true }, random);
      const [moved] = augmentBoxes([{ label: 0, x: x / SIZE, y: y / SIZE, width: 8 / SIZE, height: 8 / SIZE }], plan);
      const seen = brightBox(augmentBatch(image, [plan]).dataSync() as Float32Array);
      const pixel = 1.5 / SIZE;
      expect(Math.abs(moved.x - seen.x)).toBeLessThan(pixel);
      expect(Math.abs(moved.y - seen.y)).toBeLessThan(pixel);
      expect(Math.abs(moved.width - seen.width)).toBeLessThan(2 * pixel);
      expect(Math.abs(moved.height - seen.height)).toBeLessThan(2 * pixel);
      tf.dispose(image);
    }
  });

  it('drops a box that the crop mostly removes', () => {
    const plan = { ...IDENTITY_PLAN, left: 0.5, right: 1, top: 0, bottom: 0.5 };
    expect(augmentBoxes([{ label: 1, x: 0.1, y: 0.1, width: 0.2, height: 0.2 }], plan)).toEqual([]);
    expect(augmentBoxes([{ label: 1, x: 0.6, y: 0.1, width: 0.2, height: 0.2 }], plan)).toEqual([
      {
        label: 1,
        x: expect.closeTo(0.2, 6),
        y: expect.closeTo(0.2, 6),
        width: expect.closeTo(0.4, 6),
        height: expect.closeTo(0.4, 6),
      },
    ]);
  });
});
