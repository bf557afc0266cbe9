import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import sharp, { type SharpOptions } from 'sharp';
import { DatasetErrors } from '../domain/dataset-errors.js';
import { convertHeicToJpeg, heicThreads } from './heic-conversion.js';
import { inspectImage } from './image-inspection.js';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/${name}`, import.meta.url));
/** A 320x240 photo, and the same encoded as HEIC by heif-enc (quality 60). */
const source = fixture('photo.jpg');
const heic = fixture('photo.heic');
/** The photo stored turned a quarter anticlockwise (240x320), with an 'irot' box saying to turn it back to show it. */
const turnedHeic = fixture('photo-turned.heic');
/**
 * 16x16 of sRGB's pure red stored in Display P3, as an iPhone stores its photos: sharp wrote it as a PNG from raw
 * (255, 0, 0) with `.withIccProfile('p3')` (pixels ~(234, 51, 35), its 480-byte P3 profile embedded), then
 * `heif-enc -q 90 -o red-display-p3.heic red.png` (libheif 1.15.1, Debian's libheif-examples) kept that profile in a
 * 'colr' box of type 'prof'.
 */
const p3Red = fixture('red-display-p3.heic');
const limits = { maxPixels: 40_000_000 };

/** The mean of each colour channel of a picture, decoded by sharp as training and thumbnails decode it. */
async function meanColour(bytes: Buffer, options: SharpOptions = {}): Promise<number[]> {
  const { data, info } = await sharp(bytes, options).raw().toBuffer({ resolveWithObject: true });
  const sums = [0, 0, 0];
  for (let i = 0; i < data.length; i += info.channels) for (let c = 0; c < 3; c += 1) sums[c] += data[i + c];
  return sums.map((sum) => Math.round(sum / (data.length / info.channels)));
}

/** Mean absolute difference, per channel value (0-255), between two pictures of the same size. */
async function meanDifference(a: Buffer, b: Buffer): Promise<number> {
  const [left, right] = await Promise.all(
    [a, b].map((bytes) => sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
  );
  expect([right.info.width, right.info.height]).toEqual([left.info.width, left.info.height]);
  let total = 0;
  for (let i = 0; i < left.data.length; i += 1) total += Math.abs(left.data[i] - right.data[i]);
  return total / left.data.length;
}

async function jpegOf(bytes: Buffer): Promise<Buffer> {
  const conversion = await convertHeicToJpeg(bytes, limits);
  if (!conversion?.ok) throw new Error(`not converted: ${JSON.stringify(conversion)}`);
  return conversion.jpeg;
}

afterAll(() => heicThreads.closeIdle());

describe('HEIC photos converted to JPEG', () => {
  it('gives a JPEG of the same picture: same size, pixels close to the source', async () => {
    const jpeg = await jpegOf(heic);
    const metadata = await sharp(jpeg).metadata();
    expect(metadata).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    expect(metadata.orientation ?? 1).toBe(1);
    expect(await meanDifference(jpeg, source)).toBeLessThan(3);
  });

  it('turns a photo stored sideways upright, as its rotation says', async () => {
    const jpeg = await jpegOf(turnedHeic);
    expect(await sharp(jpeg).metadata()).toMatchObject({ width: 320, height: 240 });
    expect(await meanDifference(jpeg, source)).toBeLessThan(3);
  });

  it('gives the same bytes for the same photo, so a photo sent twice is a duplicate', async () => {
    expect((await jpegOf(heic)).equals(await jpegOf(heic))).toBe(true);
  });

  it("keeps a Display P3 photo's colours: its profile goes with the JPEG, which decodes to the sRGB red it shows", async () => {
    const jpeg = await jpegOf(p3Red);
    expect((await sharp(jpeg).metadata()).icc?.equals((await sharp(p3Red).metadata()).icc!)).toBe(true);
    const [red, green, blue] = await meanColour(jpeg);
    expect(red).toBeGreaterThanOrEqual(252);
    expect(Math.max(green, blue)).toBeLessThanOrEqual(5);
    // Without it the same pixels read as a paler red, as every converted iPhone photo did.
    const [, greenIgnoringProfile] = await meanColour(jpeg, { ignoreIcc: true });
    expect(greenIgnoringProfile).toBeGreaterThan(40);
  });

  it('converts a HEIF naming only the generic brands, HEVC-coded', async () => {
    const generic = Buffer.from(heic);
    // ftyp: major brand, minor version, then the compatible brands (heif-enc writes mif1, heic, miaf).
    generic.write('mif1', 8, 'latin1');
    generic.write('mif1miafmiaf', 16, 'latin1');
    expect(await meanDifference(await jpegOf(generic), source)).toBeLessThan(3);
  });

  it('leaves other pictures alone: JPEG, and AVIF (HEIF with AV1, decoded as it is)', async () => {
    expect(await convertHeicToJpeg(source, limits)).toBeNull();
    expect(await convertHeicToJpeg(await sharp(source).avif().toBuffer(), limits)).toBeNull();
  });

  it('refuses a photo over the pixel limit before decoding it', async () => {
    expect(await convertHeicToJpeg(heic, { maxPixels: 320 * 240 - 1 })).toEqual({
      ok: false,
      problem: { kind: 'too-large', message: 'The image is 320x240 pixels; at most 76799 pixels are accepted.' },
    });
  });

  it("says a HEIC that cannot be decoded is damaged, in the decoder's words, writing nothing to stdout", async () => {
    const truncated = heic.subarray(0, heic.length - 2000);
    const written: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0);
    try {
      expect(await convertHeicToJpeg(truncated, limits)).toEqual({
        ok: false,
        undecodable: expect.stringContaining('Unexpected end of file'),
      });
    } finally {
      write.mockRestore();
    }
    expect(written.join('')).not.toContain('Decoding image failed');
  });
});

describe('HEIC photos inspected at intake', () => {
  it('are taken as the JPEG they were converted to, upright', async () => {
    const result = await inspectImage(turnedHeic, { ...limits, maxFileBytes: 1024 * 1024 });
    if (!result.ok) throw new Error(result.rejection.message);
    expect(result.image).toMatchObject({ format: 'jpeg', width: 320, height: 240, orientation: 1 });
    expect(result.image.converted?.equals(await jpegOf(turnedHeic))).toBe(true);
  });

  it('keep the file size limit of the photo sent', async () => {
    const result = await inspectImage(heic, { ...limits, maxFileBytes: heic.length - 1 });
    expect(result).toMatchObject({ ok: false, rejection: { code: DatasetErrors.FILE_TOO_LARGE } });
  });

  it('are refused as damaged when truncated', async () => {
    const result = await inspectImage(heic.subarray(0, 600), { ...limits, maxFileBytes: 1024 * 1024 });
    expect(result).toMatchObject({ ok: false, rejection: { code: DatasetErrors.CORRUPT_IMAGE } });
  });
});
