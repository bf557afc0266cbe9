import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';

/**
 * Small generated images for tests and benchmarks: each seed draws a different pattern (so no two are
 * near-duplicates) from raw pixels, encoded by sharp.
 */
export async function generateImage(
  seed: number,
  options: { width?: number; height?: number; format?: 'png' | 'jpeg' | 'webp' } = {},
): Promise<Buffer> {
  const width = options.width ?? 8 + (seed % 25);
  const height = options.height ?? 8 + ((seed * 7) % 25);
  const pixels = Buffer.alloc(width * height * 3);
  let state = (seed * 2654435761 + 1) >>> 0;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  // A few random blocks on a random background: distinct layouts give distinct difference hashes.
  const background = [random() * 255, random() * 255, random() * 255];
  for (let i = 0; i < pixels.length; i += 3) pixels.set(background, i);
  for (let block = 0; block < 6; block += 1) {
    const [x0, y0] = [Math.floor(random() * width), Math.floor(random() * height)];
    const [bw, bh] = [1 + Math.floor(random() * (width / 2)), 1 + Math.floor(random() * (height / 2))];
    const colour = [random() * 255, random() * 255, random() * 255];
    for (let y = y0; y < Math.min(height, y0 + bh); y += 1) {
      for (let x = x0; x < Math.min(width, x0 + bw); x += 1) pixels.set(colour, (y * width + x) * 3);
    }
  }
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  switch (options.format ?? 'png') {
    case 'jpeg':
      return image.jpeg({ quality: 90 }).toBuffer();
    case 'webp':
      return image.webp().toBuffer();
    default:
      return image.png().toBuffer();
  }
}

/** A JPEG cut in half: the header is fine, the picture data is not all there. */
export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await generateImage(7, { width: 64, height: 64, format: 'jpeg' });
  return whole.subarray(0, Math.floor(whole.length / 2));
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A decompression bomb's header: a valid PNG declaring width x height grey pixels, with only the first row
 * of data. Checking the declared size must refuse it before anything is decoded.
 */
export function hugePngHeader(width = 20000, height = 20000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8);
  const firstRow = deflateSync(Buffer.alloc(width + 1));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', firstRow),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
