import type { Sharp } from 'sharp';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Offset of a PNG's bit depth: signature (8), IHDR length and type (8), width and height (8). */
const PNG_BIT_DEPTH_OFFSET = 24;

/**
 * Whether `bytes` may hold more than 8 bits a sample, by their first bytes: JPEG and WebP never do, a PNG says its
 * depth in its header; anything else (TIFF, AVIF, HEIF…) is asked of sharp.
 */
function mayBeDeeperThan8Bits(bytes: Uint8Array): boolean {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return false;
  const ascii = (start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return false;
  if (PNG_SIGNATURE.every((byte, index) => bytes[index] === byte)) return bytes[PNG_BIT_DEPTH_OFFSET] > 8;
  return true;
}

/**
 * `image` (the encoded `bytes` opened by sharp) made to decode to the sRGB its colour profile means. sharp converts
 * an embedded profile (a phone's Display P3, a camera's Adobe RGB) to sRGB for an 8-bit image, but keeps a deeper one
 * (an editor's 16-bit PNG or TIFF) in Display P3, paler than it is: only those take sharp's sRGB pipeline, as it takes
 * a 12-MP JPEG's decode from ~70 to ~250 ms. JPEG, WebP and 8-bit PNG are told by their first bytes; other formats'
 * headers are read (~1 ms). Loads no sharp of its own (pure).
 */
export async function decodingToSrgb(image: Sharp, bytes: Uint8Array): Promise<Sharp> {
  if (!mayBeDeeperThan8Bits(bytes)) return image;
  const { hasProfile, depth } = await image.metadata();
  return hasProfile && depth !== 'uchar' ? image.pipelineColourspace('srgb') : image;
}
