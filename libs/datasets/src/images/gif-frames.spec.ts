import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { hollowGif } from '../testing/hollow-images.js';
import { gifFirstFramePaintablePixels } from './gif-frames.js';

const noisyGif = (width: number, height: number) =>
  sharp(Buffer.from(Array.from({ length: width * height * 3 }, (_, index) => (index * 7919) % 251)), {
    raw: { width, height, channels: 3 },
  })
    .gif()
    .toBuffer();

describe('gifFirstFramePaintablePixels', () => {
  it('answers the whole frame of GIFs that hold their pixels: a noisy picture and a one-colour one', async () => {
    const solid = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#c00' } })
      .gif()
      .toBuffer();
    expect(gifFirstFramePaintablePixels(await noisyGif(120, 80))).toBe(120 * 80);
    expect(gifFirstFramePaintablePixels(solid)).toBe(300 * 200);
  });

  it("answers the first frame of an animation, not the frames' total", async () => {
    const frame = (grey: number) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background: { r: grey, g: grey, b: grey } } })
        .png()
        .toBuffer();
    const threeFrames = await sharp([await noisyGif(40, 30), await frame(80), await frame(160)], {
      join: { animated: true },
    })
      .gif()
      .toBuffer();
    expect((await sharp(threeFrames).metadata()).pages).toBe(3);
    expect(gifFirstFramePaintablePixels(threeFrames)).toBe(40 * 30);
  });

  it('bounds a frame by what its compressed data can hold: 43 bytes declaring 7,200 × 7,200 hold 15 pixels', () => {
    expect(gifFirstFramePaintablePixels(hollowGif(7200))).toBe(15);
  });

  it('answers the frame, not the canvas, of a small picture on a large canvas', async () => {
    const gif = await noisyGif(100, 50);
    // The logical screen (the canvas libvips decodes onto) made 5,000 × 4,000.
    gif.writeUInt16LE(5000, 6);
    gif.writeUInt16LE(4000, 8);
    expect(gifFirstFramePaintablePixels(gif)).toBe(100 * 50);
  });

  it('counts only the bytes a truncated GIF has: one byte of data left holds 3 pixels', () => {
    const gif = hollowGif(7200);
    expect(gifFirstFramePaintablePixels(gif.subarray(0, gif.length - 3))).toBe(3);
  });

  it('answers null for other formats and for a GIF without a frame', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    expect(gifFirstFramePaintablePixels(png)).toBeNull();
    expect(
      gifFirstFramePaintablePixels(Buffer.concat([hollowGif(10).subarray(0, 19), Buffer.from([0x3b])])),
    ).toBeNull();
  });
});
