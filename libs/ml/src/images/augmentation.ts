import * as tf from '@tensorflow/tfjs-core';
import type { LabeledBox } from '../boxes/box.js';
import type { SeededRandom } from '../random/seeded-random.js';

export interface AugmentationOptions {
  horizontalFlip?: boolean;
  /** Smallest fraction of each side a random crop keeps (1 turns cropping off). */
  cropScale?: number;
  /** Largest brightness shift, as a fraction of the full range (0 turns it off). */
  brightness?: number;
}

export const DEFAULT_AUGMENTATION: Required<AugmentationOptions> = {
  horizontalFlip: true,
  cropScale: 0.85,
  brightness: 0.15,
};

/** One image's random changes; crop edges are fractions of the image. */
export interface AugmentationPlan {
  top: number;
  left: number;
  bottom: number;
  right: number;
  flip: boolean;
  brightnessShift: number;
}

export const IDENTITY_PLAN: AugmentationPlan = {
  top: 0,
  left: 0,
  bottom: 1,
  right: 1,
  flip: false,
  brightnessShift: 0,
};

export function planAugmentation(options: AugmentationOptions, random: SeededRandom): AugmentationPlan {
  const { horizontalFlip, cropScale, brightness } = { ...DEFAULT_AUGMENTATION, ...options };
  // Always draw the same numbers, so that a plan depends only on the seed and the image's position in the stream.
  const side = random.uniform(Math.min(1, cropScale), 1);
  const top = random.uniform(0, 1 - side);
  const left = random.uniform(0, 1 - side);
  const flip = random.next() < 0.5 && horizontalFlip;
  const brightnessShift = random.uniform(-brightness, brightness);
  return { top, left, bottom: top + side, right: left + side, flip, brightnessShift };
}

/**
 * Applies one plan per image to a batch in [0, 1]: crop, flip and resize in a single cropAndResize (a flip is a
 * crop box whose x1 > x2), then a clipped brightness shift. The output keeps the input size.
 */
export function augmentBatch(images: tf.Tensor4D, plans: readonly AugmentationPlan[]): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, height, width] = images.shape;
    const boxes = plans.map((plan) => {
      const [y1, y2] = toCenterCoordinates(plan.top, plan.bottom, height);
      const [x1, x2] = toCenterCoordinates(plan.left, plan.right, width);
      return plan.flip ? [y1, x2, y2, x1] : [y1, x1, y2, x2];
    });
    const cropped = tf.image.cropAndResize(
      images,
      tf.tensor2d(boxes, [batch, 4]),
      tf.range(0, batch, 1, 'int32') as tf.Tensor1D,
      [height, width],
      'bilinear',
    );
    const shifts = tf.tensor4d(
      plans.map((plan) => plan.brightnessShift),
      [batch, 1, 1, 1],
    );
    return tf.clipByValue(tf.add(cropped, shifts), 0, 1);
  });
}

/**
 * cropAndResize addresses pixel centres (0 = first pixel's centre, 1 = last pixel's centre); plans use pixel edges.
 * Resizing a crop back to `size` pixels puts the first and last output pixels half an output pixel (half a crop
 * fraction of a source pixel) inside the crop's edges.
 */
function toCenterCoordinates(start: number, end: number, size: number): [number, number] {
  if (size <= 1) return [0, 0];
  const halfOutputPixel = (end - start) / 2;
  return [(start * size + halfOutputPixel - 0.5) / (size - 1), (end * size - halfOutputPixel - 0.5) / (size - 1)];
}

/** Fraction of the original box area that must stay inside the crop for the box to be kept. */
const MIN_VISIBLE_AREA = 0.4;

/** Moves boxes (image fractions) the way `augmentBatch` moves the pixels; boxes mostly cropped away are dropped. */
export function augmentBoxes(boxes: readonly LabeledBox[], plan: AugmentationPlan): LabeledBox[] {
  const cropWidth = plan.right - plan.left;
  const cropHeight = plan.bottom - plan.top;
  const kept: LabeledBox[] = [];
  for (const box of boxes) {
    const left = clamp01((box.x - plan.left) / cropWidth);
    const right = clamp01((box.x + box.width - plan.left) / cropWidth);
    const top = clamp01((box.y - plan.top) / cropHeight);
    const bottom = clamp01((box.y + box.height - plan.top) / cropHeight);
    const visibleArea = (right - left) * cropWidth * (bottom - top) * cropHeight;
    if (visibleArea < MIN_VISIBLE_AREA * box.width * box.height || right <= left || bottom <= top) continue;
    kept.push({ label: box.label, x: plan.flip ? 1 - right : left, y: top, width: right - left, height: bottom - top });
  }
  return kept;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
