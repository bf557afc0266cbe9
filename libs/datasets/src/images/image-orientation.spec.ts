import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { boxShownUpright } from './image-orientation.js';

/** The bounding box of the white pixels of a one-channel image, in fractions of it. */
function whiteBox(pixels: Buffer, width: number, height: number) {
  let [left, top, right, bottom] = [width, height, 0, 0];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (pixels[y * width + x] > 128) {
        [left, top] = [Math.min(left, x), Math.min(top, y)];
        [right, bottom] = [Math.max(right, x + 1), Math.max(bottom, y + 1)];
      }
  return { x: left / width, y: top / height, width: (right - left) / width, height: (bottom - top) / height };
}

describe('boxes on phone photos', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'turns a box drawn on the stored pixels of a photo with EXIF orientation %i onto the photo shown upright',
    async (orientation) => {
      // A white block at columns 5–14 and rows 2–7 of a 40×20 stored image, black elsewhere.
      const [width, height] = [40, 20];
      const stored = Buffer.alloc(width * height);
      for (let y = 2; y < 8; y++) stored.fill(255, y * width + 5, y * width + 15);
      const drawnOnStored = { x: 5 / 40, y: 2 / 20, width: 10 / 40, height: 6 / 20 };
      const photo = await sharp(stored, { raw: { width, height, channels: 1 } })
        .png()
        .withMetadata({ orientation })
        .toBuffer();
      const { data, info } = await sharp(photo)
        .rotate()
        .toColourspace('b-w')
        .raw()
        .toBuffer({ resolveWithObject: true });
      const shown = whiteBox(data, info.width, info.height);
      const turned = boxShownUpright({ label: 'block', ...drawnOnStored }, orientation);
      expect(turned.label).toBe('block');
      for (const side of ['x', 'y', 'width', 'height'] as const) expect(turned[side]).toBeCloseTo(shown[side], 6);
    },
  );
});
