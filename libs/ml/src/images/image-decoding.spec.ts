import { describe, expect, it } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import sharp, { type Sharp } from 'sharp';
import { GateMeter, startGateRunsThread } from '@diyml/core/testing/gate-meter.js';
import {
  boxFromLetterbox,
  boxToLetterbox,
  decodeAll,
  decodeLetterboxed,
  decodeResized,
  toUnitRange,
} from './image-decoding.js';
import { DECODING_BUDGET_PIXELS, decodingBudget } from './decoding-budget.js';

/** A PNG of `width`×`height` whose left half is red and right half blue. */
async function halfRedHalfBluePng(width: number, height: number): Promise<Uint8Array> {
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) pixels.set(x < width / 2 ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
  return new Uint8Array(
    await sharp(pixels, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

function pixelAt(image: { pixels: Uint8Array; width: number; channels: number }, x: number, y: number): number[] {
  const start = (y * image.width + x) * image.channels;
  return Array.from(image.pixels.subarray(start, start + image.channels));
}

describe('image decoding', () => {
  it("waits for room in the process's pixel budget to decode encoded bytes, not raw pixels", async () => {
    const png = await halfRedHalfBluePng(16, 16);
    let release = () => {};
    const holding = decodingBudget.run(() => new Promise<void>((resolve) => (release = resolve)), {
      weight: DECODING_BUDGET_PIXELS,
    });
    const order: string[] = [];
    const encoded = decodeResized(png, { width: 8, height: 8 }, 3).then(() => order.push('encoded'));
    const raw = decodeResized(
      { pixels: new Uint8Array(16 * 16 * 3), width: 16, height: 16, channels: 3 },
      {
        width: 8,
        height: 8,
      },
      3,
    ).then(() => order.push('raw'));
    await raw;
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('released');
    release();
    await Promise.all([holding, encoded]);
    expect(order).toEqual(['raw', 'released', 'encoded']);
  });

  it('waits while a worker thread holds the pixel budget, and decodes once that thread is terminated', async () => {
    const { worker, hold } = await startGateRunsThread(
      'image-decoding-pixels',
      DECODING_BUDGET_PIXELS,
      new GateMeter(),
    );
    try {
      await hold('all', DECODING_BUDGET_PIXELS);
      while (decodingBudget.inUse < DECODING_BUDGET_PIXELS) await nextTurn();
      let decoded = false;
      const decoding = decodeResized(await halfRedHalfBluePng(16, 16), { width: 8, height: 8 }, 3).then(
        () => (decoded = true),
      );
      for (let turn = 0; turn < 20; turn++) await nextTurn();
      expect(decoded).toBe(false);

      await worker.terminate();
      await decoding;
      expect(decodingBudget.inUse).toBe(0);
    } finally {
      await worker.terminate();
    }
  });

  it('weighs a decode by the source size its caller read, instead of reading the header again', async () => {
    const png = await halfRedHalfBluePng(16, 16);
    let release = () => {};
    // Room for 8 × 8 pixels left: the 16 × 16 PNG fits only when weighed by the size given.
    const holding = decodingBudget.run(() => new Promise<void>((resolve) => (release = resolve)), {
      weight: DECODING_BUDGET_PIXELS - 64,
    });
    const resized = await decodeResized(png, { width: 8, height: 8 }, 3, { sourceSize: { width: 8, height: 8 } });
    const letterboxed = await decodeLetterboxed(png, { width: 8, height: 4 }, 3, {
      sourceSize: { width: 8, height: 8 },
    });
    release();
    await holding;
    expect(pixelAt(resized, 0, 4)).toEqual([255, 0, 0]);
    // The transform is the given size's: a square in an 8 × 4 input.
    expect(letterboxed.transform).toMatchObject({ sourceWidth: 8, contentWidth: 4, contentHeight: 4, offsetX: 2 });
  });

  it('decodes and resizes encoded bytes to RGB at the target size', async () => {
    const image = await decodeResized(await halfRedHalfBluePng(40, 20), { width: 8, height: 8 }, 3);
    expect(image).toMatchObject({ width: 8, height: 8, channels: 3 });
    expect(image.pixels).toHaveLength(8 * 8 * 3);
    expect(pixelAt(image, 0, 4)).toEqual([255, 0, 0]);
    expect(pixelAt(image, 7, 4)).toEqual([0, 0, 255]);
  });

  it('decodes to one grey channel for grayscale models', async () => {
    const image = await decodeResized(await halfRedHalfBluePng(16, 16), { width: 4, height: 4 }, 1);
    expect(image.channels).toBe(1);
    expect(image.pixels).toHaveLength(16);
    // Red is brighter than blue in luminance.
    expect(pixelAt(image, 0, 0)[0]).toBeGreaterThan(pixelAt(image, 3, 0)[0]);
  });

  it('passes raw pixels of the right size through and resizes others', async () => {
    const pixels = Uint8Array.from({ length: 4 * 4 }, (_, i) => i * 10);
    const same = await decodeResized({ pixels, width: 4, height: 4, channels: 1 }, { width: 4, height: 4 }, 1);
    expect(same.pixels).toBe(pixels);
    const larger = await decodeResized({ pixels, width: 4, height: 4, channels: 1 }, { width: 8, height: 8 }, 3);
    expect(larger.pixels).toHaveLength(8 * 8 * 3);
  });

  it('rejects bytes that are not an image', async () => {
    await expect(decodeResized(new TextEncoder().encode('not an image'), { width: 4, height: 4 }, 3)).rejects.toThrow();
  });

  it('letterboxes a wide image into the middle of a square with grey bars', async () => {
    const image = await decodeLetterboxed(await halfRedHalfBluePng(40, 20), { width: 16, height: 16 }, 3);
    expect(image.transform).toMatchObject({ contentWidth: 16, contentHeight: 8, offsetX: 0, offsetY: 4 });
    expect(pixelAt(image, 0, 0)).toEqual([114, 114, 114]);
    expect(pixelAt(image, 0, 15)).toEqual([114, 114, 114]);
    expect(pixelAt(image, 0, 8)).toEqual([255, 0, 0]);
    expect(pixelAt(image, 15, 8)).toEqual([0, 0, 255]);
  });

  it('maps boxes into the letterbox and back', async () => {
    const { transform } = await decodeLetterboxed(await halfRedHalfBluePng(40, 20), { width: 16, height: 16 }, 3);
    const box = { x: 0.5, y: 0, width: 0.5, height: 1 };
    expect(boxToLetterbox(box, transform)).toEqual({ x: 0.5, y: 0.25, width: 0.5, height: 0.5 });
    const back = boxFromLetterbox(boxToLetterbox(box, transform), transform);
    expect(back.x).toBeCloseTo(0.5);
    expect(back.y).toBeCloseTo(0);
    expect(back.width).toBeCloseTo(0.5);
    expect(back.height).toBeCloseTo(1);
  });

  it('normalises to [0, 1] and decodes many images in order', async () => {
    expect(Array.from(toUnitRange(Uint8Array.from([0, 51, 255])))).toEqual([0, expect.closeTo(0.2, 6), 1]);
    const sizes = await decodeAll(
      6,
      async (index) => (await decodeResized(await halfRedHalfBluePng(8, 8), { width: index + 1, height: 2 }, 3)).width,
      2,
    );
    expect(sizes).toEqual([1, 2, 3, 4, 5, 6]);
  });

  describe('phone photos', () => {
    /** 8×8 blocks of six colours, 3 across and 2 down: no rotation or mirror of it looks the same. */
    const BLOCKS = [
      [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
      ],
      [
        [255, 255, 0],
        [0, 255, 255],
        [255, 255, 255],
      ],
    ];
    const UPRIGHT = { width: 24, height: 16 };

    function uprightAt(x: number, y: number): number[] {
      return BLOCKS[Math.floor(y / 8)][Math.floor(x / 8)];
    }

    /** Where a stored pixel shows once the EXIF orientation is applied (the tag's meaning). */
    function shownAt(orientation: number, x: number, y: number, w: number, h: number): [number, number] {
      switch (orientation) {
        case 2:
          return [w - 1 - x, y];
        case 3:
          return [w - 1 - x, h - 1 - y];
        case 4:
          return [x, h - 1 - y];
        case 5:
          return [y, x];
        case 6:
          return [h - 1 - y, x];
        case 7:
          return [h - 1 - y, w - 1 - x];
        case 8:
          return [y, w - 1 - x];
        default:
          return [x, y];
      }
    }

    /** The upright picture stored as a camera with this EXIF orientation writes it. */
    async function photoWithOrientation(orientation: number): Promise<Uint8Array> {
      const sideways = orientation >= 5;
      const w = sideways ? UPRIGHT.height : UPRIGHT.width;
      const h = sideways ? UPRIGHT.width : UPRIGHT.height;
      const stored = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) stored.set(uprightAt(...shownAt(orientation, x, y, w, h)), (y * w + x) * 3);
      return new Uint8Array(
        await sharp(stored, { raw: { width: w, height: h, channels: 3 } })
          .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
          .withMetadata({ orientation })
          .toBuffer(),
      );
    }

    function expectUpright(image: { pixels: Uint8Array; width: number; channels: number }, offsetY = 0): void {
      for (let row = 0; row < 2; row++)
        for (let column = 0; column < 3; column++) {
          const [x, y] = [column * 8 + 4, row * 8 + 4];
          const found = pixelAt(image, x, y + offsetY);
          uprightAt(x, y).forEach((value, channel) => expect(Math.abs(found[channel] - value)).toBeLessThan(24));
        }
    }

    it.each([1, 2, 3, 4, 5, 6, 7, 8])(
      'decodes a photo with EXIF orientation %i as the upright picture, for classifiers and detectors alike',
      async (orientation) => {
        const photo = await photoWithOrientation(orientation);
        expectUpright(await decodeResized(photo, UPRIGHT, 3));
        const letterboxed = await decodeLetterboxed(photo, { width: 24, height: 24 }, 3);
        expect(letterboxed.transform).toMatchObject({ sourceWidth: 24, sourceHeight: 16, offsetY: 4 });
        expectUpright(letterboxed, 4);
      },
    );

    it('keeps nothing of a decoded photo in libvips once it is decoded', async () => {
      const progressive = await sharp({
        create: {
          width: 1600,
          height: 1200,
          channels: 3,
          background: { r: 128, g: 128, b: 128 },
          noise: { type: 'gaussian', mean: 128, sigma: 40 },
        },
      })
        .jpeg({ progressive: true })
        .toBuffer();
      await decodeResized(new Uint8Array(progressive), { width: 224, height: 224 }, 3);
      await decodeLetterboxed(new Uint8Array(progressive), { width: 224, height: 224 }, 3);
      expect(sharp.cache()).toMatchObject({ memory: { current: 0 }, items: { current: 0 } });
    });

    it('decodes progressive JPEGs, 16-bit PNGs, grey PNGs with alpha and CMYK JPEGs to 8-bit RGB', async () => {
      const upright = await photoWithOrientation(1);
      const progressive = await sharp(upright)
        .jpeg({ progressive: true, quality: 100, chromaSubsampling: '4:4:4' })
        .toBuffer();
      const sixteenBit = await sharp(upright).toColourspace('rgb16').png().toBuffer();
      for (const source of [progressive, sixteenBit])
        expectUpright(await decodeResized(new Uint8Array(source), UPRIGHT, 3));

      const greyWithAlpha = await sharp(upright).toColourspace('grey16').ensureAlpha(1).png().toBuffer();
      const grey = await decodeResized(new Uint8Array(greyWithAlpha), UPRIGHT, 3);
      expect(grey.pixels).toHaveLength(24 * 16 * 3);
      // Red is darker than green in luminance, whatever the depth it was stored at.
      expect(pixelAt(grey, 4, 4)[0]).toBeLessThan(pixelAt(grey, 12, 4)[0]);

      // Pure primaries are out of the CMYK gamut: only their hue survives the round trip.
      const cmyk = await sharp(upright).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
      const fromCmyk = await decodeResized(new Uint8Array(cmyk), UPRIGHT, 3);
      const [red, green, blue] = pixelAt(fromCmyk, 4, 4);
      expect(red).toBeGreaterThan(Math.max(green, blue) + 100);
      expect(pixelAt(fromCmyk, 20, 12)).toEqual([255, 255, 255]);
    });
  });
});

/** Mean of each of the first three channels over a decoded image, rounded. */
function meanColour(image: { pixels: Uint8Array; channels: number }): number[] {
  const sums = [0, 0, 0];
  const count = image.pixels.length / image.channels;
  for (let i = 0; i < image.pixels.length; i += image.channels)
    for (let c = 0; c < Math.min(3, image.channels); c++) sums[c] += image.pixels[i + c];
  return sums.slice(0, Math.min(3, image.channels)).map((sum) => Math.round(sum / count));
}

describe('photos with an embedded colour profile', () => {
  const SIZE = { width: 8, height: 8 };
  /**
   * sRGB's pure red (255, 0, 0) stored in Display P3 (sharp converts and embeds its built-in P3 profile): the pixels
   * hold ~(234, 51, 35), which a decoder that ignores the profile shows as a paler red.
   */
  const p3Red = (encode: (image: Sharp) => Sharp) =>
    encode(
      sharp(Buffer.alloc(16 * 16 * 3, Buffer.from([255, 0, 0])), {
        raw: { width: 16, height: 16, channels: 3 },
      }).withIccProfile('p3'),
    ).toBuffer();
  const encodings: Record<string, (image: Sharp) => Sharp> = {
    JPEG: (image) => image.jpeg({ quality: 100, chromaSubsampling: '4:4:4' }),
    PNG: (image) => image.png(),
    WebP: (image) => image.webp({ lossless: true }),
    TIFF: (image) => image.tiff(),
    '16-bit PNG': (image) => image.toColourspace('rgb16').png(),
  };

  it.each(Object.keys(encodings))(
    'a Display P3 %s is decoded to its sRGB colours, resized or letterboxed',
    async (name) => {
      const bytes = await p3Red(encodings[name]);
      // The stored values are P3's: read as sRGB they would be a paler red.
      const stored = await sharp(bytes, { ignoreIcc: true }).removeAlpha().raw().toBuffer();
      expect(meanColour({ pixels: stored, channels: 3 })[1]).toBeGreaterThan(40);

      const resized = await decodeResized(new Uint8Array(bytes), SIZE, 3);
      const letterboxed = await decodeLetterboxed(new Uint8Array(bytes), SIZE, 3);
      for (const decoded of [resized, letterboxed]) {
        const [red, green, blue] = meanColour(decoded);
        expect(red).toBeGreaterThanOrEqual(252);
        expect(green).toBeLessThanOrEqual(4);
        expect(blue).toBeLessThanOrEqual(4);
      }
    },
  );

  it('gives a grey model the grey of the sRGB colour, whatever the depth the photo was stored at', async () => {
    const srgb = await sharp(Buffer.alloc(16 * 16 * 3, Buffer.from([255, 0, 0])), {
      raw: { width: 16, height: 16, channels: 3 },
    })
      .png()
      .toBuffer();
    const [expected] = meanColour(await decodeResized(new Uint8Array(srgb), SIZE, 1));
    for (const name of ['PNG', '16-bit PNG']) {
      const [grey] = meanColour(await decodeResized(new Uint8Array(await p3Red(encodings[name])), SIZE, 1));
      expect(Math.abs(grey - expected)).toBeLessThanOrEqual(1);
    }
  });

  it('flattens a profiled 16-bit photo with transparency onto white in sRGB', async () => {
    const halfTransparent = await p3Red((image) => image.ensureAlpha(0.5).toColourspace('rgb16').png());
    const [red, green, blue] = meanColour(await decodeResized(new Uint8Array(halfTransparent), SIZE, 3));
    expect(red).toBeGreaterThanOrEqual(252);
    expect(Math.abs(green - 128)).toBeLessThanOrEqual(3);
    expect(Math.abs(blue - 128)).toBeLessThanOrEqual(3);
  });
});
