import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { isHeicPhoto, unsupportedFormatNamed, unsupportedFormatOf } from './image-formats.js';

/** The leading 'ftyp' box of an ISO base media file with these brands (major brand first). */
function ftyp(...brands: string[]): Buffer {
  const box = Buffer.alloc(16 + 4 * (brands.length - 1) + 64);
  box.writeUInt32BE(16 + 4 * (brands.length - 1), 0);
  box.write('ftyp', 4, 'latin1');
  box.write(brands[0], 8, 'latin1');
  brands.slice(1).forEach((brand, index) => box.write(brand, 16 + 4 * index, 'latin1'));
  return box;
}

describe('HEIC photos, told from their first bytes (converted to JPEG when taken)', () => {
  it.each([
    ['an iPhone HEIC', ftyp('heic', 'mif1', 'miaf', 'heic')],
    ['a HEIF image sequence', ftyp('msf1', 'msf1', 'hevc')],
  ])('%s is a HEIC photo, not a format refused', (_, bytes) => {
    expect(isHeicPhoto(bytes)).toBe(true);
    expect(unsupportedFormatOf(bytes)).toBeNull();
  });

  it('leaves AVIF (HEIF with AV1) and MP4 videos out', () => {
    expect(isHeicPhoto(ftyp('avif', 'avif', 'mif1', 'miaf'))).toBe(false);
    expect(isHeicPhoto(ftyp('mif1', 'mif1', 'avif', 'miaf'))).toBe(false);
    expect(isHeicPhoto(ftyp('isom', 'isom', 'iso2', 'mp41'))).toBe(false);
  });
});

describe('picture formats not taken, told from their first bytes', () => {
  it.each([
    [
      'a BMP',
      Buffer.concat([Buffer.from('BM'), Buffer.alloc(12), Buffer.from([40, 0, 0, 0]), Buffer.alloc(40)]),
      'bmp',
      'PNG',
    ],
    ['a JPEG XL codestream', Buffer.from([0xff, 0x0a, 0xfa, 0x7f, 0, 0]), 'jxl', 'djxl'],
    ['a Photoshop document', Buffer.from('8BPS\u0000\u0001'), 'psd', 'Export'],
    ['a PDF', Buffer.from('%PDF-1.7\n'), 'pdf', 'PNG or JPEG'],
  ])('%s: named, with the formats taken and how to convert it', (_, bytes, format, advice) => {
    const found = unsupportedFormatOf(bytes);
    expect(found?.format).toBe(format);
    expect(found?.message).toContain('send JPEG, PNG, WebP, AVIF, TIFF, GIF or HEIC');
    expect(found?.message).toContain(advice);
  });

  it('leaves the formats taken to the decoder: AVIF (HEIF with AV1), JPEG, PNG, WebP, TIFF, GIF', async () => {
    const picture = sharp({ create: { width: 8, height: 8, channels: 3, background: '#c33' } });
    for (const bytes of [
      await picture.clone().avif().toBuffer(),
      await picture.clone().jpeg().toBuffer(),
      await picture.clone().png().toBuffer(),
      await picture.clone().webp().toBuffer(),
      await picture.clone().tiff().toBuffer(),
      await picture.clone().gif().toBuffer(),
      ftyp('avif', 'avif', 'mif1', 'miaf'),
      // Some encoders name the generic HEIF brand first.
      ftyp('mif1', 'mif1', 'avif', 'miaf'),
    ])
      expect(unsupportedFormatOf(bytes)).toBeNull();
  });

  it('names a format the decoder read but is not taken, with generic advice', () => {
    expect(unsupportedFormatNamed('svg')).toEqual({
      format: 'svg',
      message:
        'SVG images are not taken: send JPEG, PNG, WebP, AVIF, TIFF, GIF or HEIC. Save or export the picture as PNG or JPEG.',
    });
  });
});
