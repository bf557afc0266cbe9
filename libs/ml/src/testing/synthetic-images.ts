import type { LabeledBox } from '../boxes/box.js';
import type { RawImage } from '../images/image-decoding.js';
import { SeededRandom } from '../random/seeded-random.js';
import type { TrainingDataset } from '../training/training-types.js';

/** Generated images whose classes differ in an obvious way, for tests and benchmarks that train real models. */

export type Rgb = [number, number, number];

/** A noisy grey background. */
function background(size: number, random: SeededRandom): Uint8Array {
  const pixels = new Uint8Array(size * size * 3);
  // Bytes written one by one: an array per pixel made generating a test set cost seconds of CPU.
  for (let i = 0; i < size * size * 3; i += 3) {
    const grey = 90 + random.integer(60);
    pixels[i] = pixels[i + 1] = pixels[i + 2] = grey;
  }
  return pixels;
}

function fillRect(
  pixels: Uint8Array,
  size: number,
  [x, y, width, height]: number[],
  colour: Rgb,
  random: SeededRandom,
): void {
  const clamped = new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.length);
  for (let row = y; row < y + height; row++)
    for (let column = x; column < x + width; column++) {
      const jitter = random.integer(30) - 15;
      const at = (row * size + column) * 3;
      // A Uint8ClampedArray view clamps to 0-255 as the values are written.
      clamped[at] = colour[0] + jitter;
      clamped[at + 1] = colour[1] + jitter;
      clamped[at + 2] = colour[2] + jitter;
    }
}

/** A square of `colour` (a third to a half of the side) at a random place. */
export function colouredSquareImage(colour: Rgb, size: number, random: SeededRandom): RawImage {
  const pixels = background(size, random);
  const side = Math.round(size * random.uniform(1 / 3, 1 / 2));
  fillRect(
    pixels,
    size,
    [random.integer(size - side + 1), random.integer(size - side + 1), side, side],
    colour,
    random,
  );
  return { pixels, width: size, height: size, channels: 3 };
}

/** Three or four parallel dark bars, horizontal or vertical. */
export function barsImage(orientation: 'horizontal' | 'vertical', size: number, random: SeededRandom): RawImage {
  const pixels = background(size, random);
  const thickness = Math.max(1, Math.round(size / 10));
  const offset = random.integer(thickness * 2);
  for (let start = offset; start + thickness <= size; start += thickness * 3) {
    const rect = orientation === 'horizontal' ? [0, start, size, thickness] : [start, 0, thickness, size];
    fillRect(pixels, size, rect, [20, 20, 20], random);
  }
  return { pixels, width: size, height: size, channels: 3 };
}

/** A scene with one square of a label's colour at a random position and size, and its box. */
export function squareScene(
  colours: readonly Rgb[],
  size: number,
  random: SeededRandom,
): { image: RawImage; boxes: LabeledBox[] } {
  const pixels = background(size, random);
  const label = random.integer(colours.length);
  const side = Math.round(size * random.uniform(0.2, 0.4));
  const [x, y] = [random.integer(size - side + 1), random.integer(size - side + 1)];
  fillRect(pixels, size, [x, y, side, side], colours[label], random);
  return {
    image: { pixels, width: size, height: size, channels: 3 },
    boxes: [{ label, x: x / size, y: y / size, width: side / size, height: side / size }],
  };
}

/** A scene with `count` non-overlapping squares, each of a random label's colour, and their boxes. */
export function squaresScene(
  colours: readonly Rgb[],
  size: number,
  count: number,
  random: SeededRandom,
): { image: RawImage; boxes: LabeledBox[] } {
  const pixels = background(size, random);
  const boxes: LabeledBox[] = [];
  const overlaps = (x: number, y: number, side: number) =>
    boxes.some(
      (box) =>
        x < (box.x + box.width) * size &&
        box.x * size < x + side &&
        y < (box.y + box.height) * size &&
        box.y * size < y + side,
    );
  while (boxes.length < count) {
    const side = Math.round(size * random.uniform(0.2, 0.3));
    const [x, y] = [random.integer(size - side + 1), random.integer(size - side + 1)];
    if (overlaps(x, y, side)) continue;
    const label = random.integer(colours.length);
    fillRect(pixels, size, [x, y, side, side], colours[label], random);
    boxes.push({ label, x: x / size, y: y / size, width: side / size, height: side / size });
  }
  return { image: { pixels, width: size, height: size, channels: 3 }, boxes };
}

/** A classification set of 40 px bar images, alternating horizontal and vertical. */
export function barsDataset(count: number, seed: number): TrainingDataset {
  const random = new SeededRandom(seed);
  return {
    task: 'classification',
    labels: ['horizontal', 'vertical'],
    examples: Array.from({ length: count }, (_, i) => ({
      image: barsImage(i % 2 === 0 ? 'horizontal' : 'vertical', 40, random),
      label: i % 2,
    })),
  };
}
