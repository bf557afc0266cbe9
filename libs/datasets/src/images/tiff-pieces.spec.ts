import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { largestCompressedTiffPieceBytes } from './tiff-pieces.js';

const picture = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#3a6' } });

describe('largestCompressedTiffPieceBytes', () => {
  it("answers a compressed strip's decoded bytes: libvips' strips of a 300 × 200 RGB picture, then its tiles", async () => {
    const strips = await picture(300, 200).tiff({ compression: 'deflate' }).toBuffer();
    const tiles = await picture(300, 200)
      .tiff({ compression: 'lzw', tile: true, tileWidth: 64, tileHeight: 32 })
      .toBuffer();
    const rowsPerStrip = Math.min(200, (await sharp(strips).metadata()).height ?? 0);
    expect(largestCompressedTiffPieceBytes(strips)).toBeLessThanOrEqual(300 * rowsPerStrip * 3);
    expect(largestCompressedTiffPieceBytes(strips)).toBeGreaterThan(0);
    expect(largestCompressedTiffPieceBytes(tiles)).toBe(64 * 32 * 3);
  });

  it('answers 0 for uncompressed strips and for other formats', async () => {
    expect(largestCompressedTiffPieceBytes(await picture(40, 30).tiff({ compression: 'none' }).toBuffer())).toBe(0);
    expect(largestCompressedTiffPieceBytes(await picture(40, 30).png().toBuffer())).toBe(0);
    expect(largestCompressedTiffPieceBytes(Buffer.from('II'))).toBe(0);
  });
});
