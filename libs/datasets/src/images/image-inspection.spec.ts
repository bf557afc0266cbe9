import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { hollowFaxTiff, hollowGif, hollowJpegTiff } from '../testing/hollow-images.js';
import { generateImage, hugePngHeader, truncatedJpeg } from '../testing/test-images.js';
import { DEFAULT_UPLOAD_LIMITS } from '../upload/upload-limits.js';
import { inspectImage } from './image-inspection.js';

const limits = { maxFileBytes: 10 * 1024 * 1024, maxPixels: 40_000_000 };

describe('image inspection', () => {
  it('reads format and size of PNG, JPEG and WebP from the bytes', async () => {
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const result = await inspectImage(await generateImage(1, { width: 24, height: 12, format }), limits);
      expect(result).toEqual({
        ok: true,
        image: { format, width: 24, height: 12, dhash: expect.stringMatching(/^[0-9a-f]{16}$/), orientation: 1 },
      });
    }
  });

  it('gives the same difference hash to a picture re-encoded and resized, and a different one to another picture', async () => {
    const png = await generateImage(3, { width: 32, height: 32 });
    const jpeg = await sharp(png).resize(64, 64, { kernel: 'nearest' }).jpeg({ quality: 95 }).toBuffer();
    const hash = async (bytes: Buffer) => {
      const result = await inspectImage(bytes, limits);
      return result.ok ? result.image.dhash : result.rejection.code;
    };
    expect(await hash(jpeg)).toBe(await hash(png));
    expect(await hash(await generateImage(4, { width: 32, height: 32 }))).not.toBe(await hash(png));
  });

  it('reports the upright size of a photo rotated by its EXIF orientation', async () => {
    const rotated = await sharp(await generateImage(5, { width: 30, height: 10 }))
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(await inspectImage(rotated, limits)).toMatchObject({
      ok: true,
      image: { width: 10, height: 30, orientation: 6 },
    });
  });

  it('reports the upright size of a PNG rotated by the EXIF orientation of its eXIf chunk, as the decoder turns it', async () => {
    // ImageMagick and exporters copy a photo's EXIF, orientation included, into the PNG they write.
    const rotated = await sharp(await generateImage(5, { width: 30, height: 10 }))
      .png()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const { info } = await sharp(rotated).rotate().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([10, 30]);
    expect(await inspectImage(rotated, limits)).toMatchObject({
      ok: true,
      image: { format: 'png', width: 10, height: 30, orientation: 6 },
    });
  });

  it('gives a phone photo stored sideways with its EXIF orientation the difference hash of the upright picture', async () => {
    // 8×8 pixels a hash cell, so re-encoding blurs no cell across its neighbour.
    const upright = await sharp(await generateImage(6, { width: 36, height: 32 }))
      .resize(72, 64, { kernel: 'nearest' })
      .jpeg({ quality: 95 })
      .toBuffer();
    const hash = async (bytes: Buffer) => {
      const result = await inspectImage(bytes, limits);
      return result.ok ? result.image.dhash : result.rejection.code;
    };
    for (const [orientation, angle] of [
      [6, 270],
      [8, 90],
      [3, 180],
    ]) {
      const stored = await sharp(upright).rotate(angle).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
      expect(await hash(stored)).toBe(await hash(upright));
    }
  });

  it("takes a phone's 50-MP photo under the default upload limits and refuses a 64-MP one for its size", async () => {
    const photo = (width: number, height: number) =>
      sharp({ create: { width, height, channels: 3, background: { r: 90, g: 140, b: 60 } } })
        .jpeg({ quality: 10 })
        .toBuffer();
    const limits = {
      maxFileBytes: DEFAULT_UPLOAD_LIMITS.UPLOAD_MAX_FILE_BYTES,
      maxPixels: DEFAULT_UPLOAD_LIMITS.UPLOAD_MAX_PIXELS,
    };
    expect(await inspectImage(await photo(8160, 6144), limits)).toMatchObject({
      ok: true,
      image: { width: 8160, height: 6144 },
    });
    expect(await inspectImage(hugePngHeader(9248, 6936), limits)).toEqual({
      ok: false,
      rejection: { code: 'IMAGE_TOO_LARGE', message: expect.stringContaining('9248x6936') },
    });
  });

  it.each([
    ['a text file', 'UNSUPPORTED_IMAGE', async () => Buffer.from('this is not a picture, whatever its name says')],
    [
      'an SVG',
      'UNSUPPORTED_IMAGE_FORMAT',
      async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
    ],
    ['an empty file', 'EMPTY_FILE', async () => Buffer.alloc(0)],
    ['a truncated JPEG', 'CORRUPT_IMAGE', truncatedJpeg],
    [
      'a truncated PNG',
      'CORRUPT_IMAGE',
      async () => (await generateImage(9, { width: 32, height: 32 })).subarray(0, 120),
    ],
    ['a 20000x20000 PNG', 'IMAGE_TOO_LARGE', async () => hugePngHeader()],
  ])('refuses %s with %s', async (_, code, make) => {
    const result = await inspectImage(await make(), limits);
    expect(result).toEqual({ ok: false, rejection: { code, message: expect.any(String) } });
  });

  it('says what the decoder found wrong with a damaged image', async () => {
    const result = await inspectImage(await truncatedJpeg(), limits);
    expect(result).toEqual({
      ok: false,
      rejection: { code: 'CORRUPT_IMAGE', message: expect.stringMatching(/the decoder said: .*premature end/i) },
    });
  });

  it('draws test images that are not near-duplicates of one another', async () => {
    const hashes = new Set<string>();
    for (let seed = 0; seed < 300; seed += 1) {
      const result = await inspectImage(await generateImage(seed, { format: seed % 2 ? 'jpeg' : 'png' }), limits);
      if (result.ok) hashes.add(result.image.dhash);
    }
    expect(hashes.size).toBe(300);
  });

  it('tells whoever sends a zip archive as an image to import it instead', async () => {
    const zip = zipSync({ 'cat/1.png': await generateImage(3) });
    expect(await inspectImage(Buffer.from(zip), limits)).toEqual({
      ok: false,
      rejection: {
        code: 'UNSUPPORTED_IMAGE',
        message: expect.stringContaining('it is a zip archive. Import an archive of images'),
      },
    });
  });

  it('refuses a file over the byte limit', async () => {
    const bytes = await generateImage(2);
    expect(await inspectImage(bytes, { ...limits, maxFileBytes: bytes.length - 1 })).toMatchObject({
      ok: false,
      rejection: { code: 'FILE_TOO_LARGE' },
    });
  });

  it('refuses from its header a 400-byte TIFF whose one JPEG-compressed strip declares 7,200 × 7,200 pixels, saying how to save it', async () => {
    const uploadLimits = {
      maxFileBytes: DEFAULT_UPLOAD_LIMITS.UPLOAD_MAX_FILE_BYTES,
      maxPixels: DEFAULT_UPLOAD_LIMITS.UPLOAD_MAX_PIXELS,
    };
    expect(await inspectImage(await hollowJpegTiff(7200), uploadLimits)).toEqual({
      ok: false,
      rejection: {
        code: 'IMAGE_TOO_LARGE',
        message: expect.stringMatching(/^The TIFF is compressed in strips .* save it again as PNG or JPEG/),
      },
    });
  });

  it('refuses from its header a 43-byte GIF declaring 7,200 × 7,200 pixels, saying what to fix, and takes a hollow fax TIFF, which decodes in pieces', async () => {
    const uploadLimits = {
      maxFileBytes: DEFAULT_UPLOAD_LIMITS.UPLOAD_MAX_FILE_BYTES,
      maxPixels: DEFAULT_UPLOAD_LIMITS.UPLOAD_MAX_PIXELS,
    };
    const [gif, fax] = await Promise.all([
      inspectImage(hollowGif(7200), uploadLimits),
      inspectImage(hollowFaxTiff(7200), uploadLimits),
    ]);
    expect(gif).toEqual({
      ok: false,
      rejection: {
        code: 'IMAGE_TOO_LARGE',
        message:
          'The GIF declares a 7200x7200 canvas, but its first frame holds at most 15 of those pixels (the rest is ' +
          'empty or missing), and a GIF is decoded onto its whole canvas: crop the canvas to the picture, or save it ' +
          'again as PNG or JPEG.',
      },
    });
    expect(fax).toMatchObject({ ok: true, image: { format: 'tiff', width: 7200, height: 7200 } });
  });

  it('takes GIFs whose first frame fills the canvas: 640 × 480, a one-colour 2,000 × 1,500 and an animation', async () => {
    const gif = (width: number, height: number) =>
      sharp({ create: { width, height, channels: 3, background: '#2a6' } })
        .gif()
        .toBuffer();
    const animation = await sharp([await generateImage(7, { width: 60, height: 40 }), await gif(60, 40)], {
      join: { animated: true },
    })
      .gif()
      .toBuffer();
    expect(await inspectImage(await gif(640, 480), limits)).toMatchObject({
      ok: true,
      image: { format: 'gif', width: 640, height: 480 },
    });
    expect(await inspectImage(await gif(2000, 1500), limits)).toMatchObject({
      ok: true,
      image: { format: 'gif', width: 2000, height: 1500 },
    });
    expect(await inspectImage(animation, limits)).toMatchObject({
      ok: true,
      image: { format: 'gif', width: 60, height: 40 },
    });
  });

  it('refuses a GIF over 4,096 × 4,096 pixels, which would be decoded whole, and says to save it as PNG or JPEG', async () => {
    const largeGif = await sharp({ create: { width: 5000, height: 4000, channels: 3, background: '#2a6' } })
      .gif()
      .toBuffer();
    expect(await inspectImage(largeGif, limits)).toEqual({
      ok: false,
      rejection: {
        code: 'IMAGE_TOO_LARGE',
        message:
          'The GIF is 5000x4000 pixels; a GIF is decoded whole, so at most 16777216 pixels (4096x4096) are taken in ' +
          'one: save it again as PNG or JPEG, or scale it down.',
      },
    });
  });
});
