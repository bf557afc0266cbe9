import { Zip, ZipPassThrough } from 'fflate';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import sharp from 'sharp';
import { type LabeledBox, type RawImage, SeededRandom } from '@diyml/ml';
import { colouredSquareImage, type Rgb, squareScene } from '@diyml/ml/testing/synthetic-images.js';

export const RED: Rgb = [220, 30, 30];
export const BLUE: Rgb = [30, 60, 220];

export function encodePng(image: RawImage): Promise<Buffer> {
  return sharp(Buffer.from(image.pixels), {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .png()
    .toBuffer();
}

/** `count` PNGs of a noisy square of one colour, each different. */
export async function colouredSquares(colour: Rgb, count: number, seed: number, size = 16): Promise<Buffer[]> {
  const random = new SeededRandom(seed);
  return Promise.all(Array.from({ length: count }, () => encodePng(colouredSquareImage(colour, size, random))));
}

/**
 * A PNG whose labels are independent properties: each colour of `present` is a small square in its own column
 * (the first colour on the left third, the second in the middle, the third on the right), at a random height.
 */
export async function colourColumns(present: readonly (Rgb | null)[], seed: number, size = 24): Promise<Buffer> {
  const random = new SeededRandom(seed);
  const pixels = new Uint8Array(size * size * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = 110 + random.integer(40);
  const column = Math.floor(size / present.length);
  const side = Math.floor(column * 0.75);
  present.forEach((colour, index) => {
    if (!colour) return;
    const left = index * column + random.integer(column - side + 1);
    const top = random.integer(size - side + 1);
    for (let row = top; row < top + side; row++)
      for (let x = left; x < left + side; x++) pixels.set(colour, (row * size + x) * 3);
  });
  return encodePng({ pixels, width: size, height: size, channels: 3 });
}

/** The colours of the multilabel pictures: each one a label. */
export const LABEL_COLOURS = { red: RED, green: [30, 200, 60] as Rgb, blue: BLUE } as const;
export type LabelColour = keyof typeof LABEL_COLOURS;

/** A multilabel picture: a square of each named colour in its own column (red, green, blue); its labels are those. */
export function colourPicture(colours: readonly LabelColour[], seed: number): Promise<Buffer> {
  return colourColumns(
    (['red', 'green', 'blue'] as const).map((colour) => (colours.includes(colour) ? LABEL_COLOURS[colour] : null)),
    seed,
  );
}

/**
 * Every combination of one or more colours but red-and-blue alone, which a model trained on these never sees:
 * an unseen red-and-blue picture must get both labels from what it learnt of each.
 */
export const MULTILABEL_TRAINING_SETS: readonly (readonly LabelColour[])[] = [
  ['red'],
  ['green'],
  ['blue'],
  ['red', 'green'],
  ['green', 'blue'],
  ['red', 'green', 'blue'],
];

/**
 * Pictures of each of MULTILABEL_TRAINING_SETS to train on. Every picture of two or three squares has green in it,
 * so a model may learn "two squares mean green", or lose red or blue on a seed's whim; with 16 of each at the rate
 * below, it learns each colour on its own. Trained in-process with seeds 1-60 (and other picture seeds), both
 * validation splits: 8 of each at rate 0.01 gave an unseen red-and-blue picture a wrong label on 26 of 40 runs, 8 at
 * 0.003 x 40 epochs on 6 of 40, 16 at 0.003 x 20 epochs on none of 180. More red-only, blue-only or blank pictures,
 * or a square of another colour beside a lone red or blue, did not help at rate 0.01.
 */
export const MULTILABEL_PICTURES_PER_SET = 16;

/** Training settings that learn the multilabel pictures in seconds (a small CNN; no augmentation moves a column). */
export const MULTILABEL_TRAINING_CONFIG = {
  architecture: 'small-cnn',
  imageSize: 24,
  epochs: 20,
  batchSize: 8,
  learningRate: 0.003,
  seed: 3,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

/** PNG scenes with one coloured square each, and its box in fractions of the image. */
export async function squareScenes(
  colours: readonly Rgb[],
  count: number,
  seed: number,
  size = 32,
): Promise<{ png: Buffer; boxes: LabeledBox[] }[]> {
  const random = new SeededRandom(seed);
  return Promise.all(
    Array.from({ length: count }, async () => {
      const scene = squareScene(colours, size, random);
      return { png: await encodePng(scene.image), boxes: scene.boxes };
    }),
  );
}

/** Noise images of about half a megabyte each: they do not compress, so the archive is as large as its images. */
const NOISE_IMAGE_SIDE = 410;

export const noiseImageName = (index: number) => `noise/${String(index).padStart(4, '0')}.png`;

/**
 * A zip of `count` different PNG images of noise in one class folder (`noise/0001.png`, …), each stored as it is
 * made: a dataset archive of many images, as large as they are together.
 */
export async function writeNoiseImagesZip(path: string, count: number): Promise<void> {
  const fd = openSync(path, 'w');
  try {
    const zip = new Zip((error, chunk) => {
      if (error) throw error;
      writeSync(fd, chunk);
    });
    for (let index = 0; index < count; index += 1) {
      const png = await sharp(randomBytes(NOISE_IMAGE_SIDE * NOISE_IMAGE_SIDE * 3), {
        raw: { width: NOISE_IMAGE_SIDE, height: NOISE_IMAGE_SIDE, channels: 3 },
      })
        .png({ compressionLevel: 0 })
        .toBuffer();
      const entry = new ZipPassThrough(noiseImageName(index));
      zip.add(entry);
      entry.push(png, true);
    }
    zip.end();
  } finally {
    closeSync(fd);
  }
}
