import { describe, expect, it } from 'vitest';
import sharp, { type Sharp } from 'sharp';
import { MAX_JPEG_ICC_PROFILE_BYTES, withIccProfile } from './jpeg-colour-profile.js';

/** Display P3's values for sRGB's pure red: a paler red when read as sRGB. */
const P3_VALUES_OF_SRGB_RED = [234, 51, 35];
const raw = { raw: { width: 8, height: 8, channels: 3 as const } };
const jpegOf = (image: Sharp) => image.jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
const plainJpeg = () => jpegOf(sharp(Buffer.alloc(8 * 8 * 3, Buffer.from(P3_VALUES_OF_SRGB_RED)), raw));

describe('an ICC profile embedded in a JPEG', () => {
  it("makes decoders read the pixels in the profile's colour space", async () => {
    const displayP3 = (await sharp(await jpegOf(sharp(Buffer.alloc(8 * 8 * 3), raw).withIccProfile('p3'))).metadata())
      .icc!;
    const plain = await plainJpeg();
    const tagged = withIccProfile(plain, displayP3);
    expect((await sharp(tagged).metadata()).icc?.equals(displayP3)).toBe(true);
    const [red, green, blue] = await sharp(tagged).raw().toBuffer();
    expect(red).toBeGreaterThanOrEqual(252);
    expect(Math.max(green, blue)).toBeLessThanOrEqual(5);
    // The same pixels without it stay the paler red.
    const untagged = await sharp(plain).raw().toBuffer();
    const offBy = P3_VALUES_OF_SRGB_RED.map((value, channel) => Math.abs(untagged[channel] - value));
    expect(Math.max(...offBy)).toBeLessThanOrEqual(2);
  });

  it('is split over several segments when larger than one holds, and read back whole', async () => {
    const large = Buffer.alloc(150_000, 7);
    const tagged = withIccProfile(await plainJpeg(), large);
    expect((await sharp(tagged).metadata()).icc?.equals(large)).toBe(true);
  });

  it('follows a JFIF header, which must stay first', async () => {
    const jfif = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
    const plain = await plainJpeg();
    const withJfif = Buffer.concat([plain.subarray(0, 2), jfif, plain.subarray(2)]);
    const tagged = withIccProfile(withJfif, Buffer.from('profile'));
    expect(tagged.subarray(2, 2 + jfif.length).equals(jfif)).toBe(true);
    expect((await sharp(tagged).metadata()).icc?.toString()).toBe('profile');
  });

  it('refuses a profile no JPEG can hold', async () => {
    expect(() => withIccProfile(Buffer.from([0xff, 0xd8]), Buffer.alloc(MAX_JPEG_ICC_PROFILE_BYTES + 1))).toThrow(
      RangeError,
    );
  });
});
