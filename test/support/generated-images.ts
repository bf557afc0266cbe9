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
