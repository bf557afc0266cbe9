import sharp from 'sharp';

/**
 * Hostile images of a few hundred bytes whose headers declare many pixels ("hollow"): decoded, they take memory by the
 * pixels declared, not by their bytes.
 */

/** A TIFF of one strip holding every row of a `size` × `size` picture, its strip's bytes `strip`. */
function oneStripTiff(
  size: number,
  picture: { compression: number; photometric: number; bitsPerSample: number; samples: number },
  strip: Buffer,
): Buffer {
  const LONG = 4;
  const SHORT = 3;
  const entries: Array<[tag: number, type: number, value: number]> = [
    [256, LONG, size], // width
    [257, LONG, size], // height
    [258, SHORT, picture.bitsPerSample],
    [259, SHORT, picture.compression],
    [262, SHORT, picture.photometric],
    [273, LONG, 0], // strip offset, set below
    [277, SHORT, picture.samples],
    [278, LONG, size], // rows per strip: all
    [279, LONG, strip.length], // strip byte count
  ];
  const header = Buffer.alloc(8 + 2 + entries.length * 12 + 4);
  header.write('II*\0', 'latin1');
  header.writeUInt32LE(8, 4);
  header.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], index) => {
    const at = 10 + index * 12;
    header.writeUInt16LE(tag, at);
    header.writeUInt16LE(type, at + 2);
    header.writeUInt32LE(1, at + 4);
    const written = tag === 273 ? header.length : value;
    if (type === SHORT) header.writeUInt16LE(written, at + 8);
    else header.writeUInt32LE(written, at + 8);
  });
  return Buffer.concat([header, strip]);
}

/** About 1 KB of one-bit pixels: CCITT group 4 codes a white row like the row above in one bit. Decoded in pieces. */
export function hollowFaxTiff(size: number): Buffer {
  const rows = Buffer.concat([Buffer.alloc(Math.ceil(size / 8), 0xff), Buffer.from([0x00, 0x10, 0x01])]);
  return oneStripTiff(size, { compression: 4, photometric: 0, bitsPerSample: 1, samples: 1 }, rows);
}

/** ~400 bytes: an 16 × 16 JPEG whose frame header declares `size` × `size`, as the one strip of a YCbCr TIFF. */
export async function hollowJpegTiff(size: number): Promise<Buffer> {
  const jpeg = Buffer.from(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c00' } })
      .jpeg({ chromaSubsampling: '4:2:0' })
      .toBuffer(),
  );
  const frame = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(size, frame + 5);
  jpeg.writeUInt16BE(size, frame + 7);
  return oneStripTiff(size, { compression: 7, photometric: 6, bitsPerSample: 8, samples: 3 }, jpeg);
}

/**
 * A GIF of 43 bytes whose one frame declares `size` × `size` pixels: libvips decodes a whole frame (4 bytes a pixel).
 * Each `variant` (0-255) has other bytes (its second colour), so none is a duplicate of another.
 */
export function hollowGif(size: number, variant = 0): Buffer {
  const screen = Buffer.alloc(7);
  screen.writeUInt16LE(size, 0);
  screen.writeUInt16LE(size, 2);
  screen[4] = 0x80; // a global colour table of two colours
  const descriptor = Buffer.from([0x2c, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  descriptor.writeUInt16LE(size, 5);
  descriptor.writeUInt16LE(size, 7);
  return Buffer.concat([
    Buffer.from('GIF89a'),
    screen,
    Buffer.from([0, 0, 0, 255, 255, variant]),
    Buffer.from([0x21, 0xf9, 4, 0, 0, 0, 0, 0]),
    descriptor,
    Buffer.from([2, 2, 0x4c, 0x01, 0, 0x3b]),
  ]);
}
