import sharp, { type Metadata } from 'sharp';
import {
  formatNameOf,
  type ImageFormat,
  isSupportedImageFormat,
  type UnsupportedFormat,
  unsupportedFormatNamed,
  unsupportedFormatOf,
} from './image-formats.js';
import { gifFirstFramePaintablePixels } from './gif-frames.js';
import { largestCompressedTiffPieceBytes } from './tiff-pieces.js';

const MiB = 1024 * 1024;
/**
 * The largest compressed TIFF strip or tile decoded: libvips decodes one whole, and holds it twice on the way (one
 * strip of 7,200 × 7,200 RGB pixels: +330 MB). Writers cut strips of a few KiB and tiles of 256 × 256; a 20-MP RGB
 * picture in one strip still fits.
 */
export const MAX_TIFF_PIECE_BYTES = 64 * MiB;
/**
 * GIFs are decoded onto their whole canvas (4 bytes a pixel, ~200 MB for 7,200 × 7,200), however little of it the
 * first frame fills: a canvas over this many pixels must be filled at least to `HOLLOW_GIF_SHARE` by what the frame
 * can hold. Editors and encoders write the first frame over the whole canvas; a 43-byte GIF cannot fill 52 MP.
 */
const HOLLOW_GIF_CHECKED_PIXELS = 1024 * 1024;
const HOLLOW_GIF_SHARE = 1 / 8;
/**
 * The most pixels taken in a GIF, below the general limit: libvips cannot shrink a GIF while decoding it, so each
 * costs 4 bytes a pixel at once (eight one-colour 52-MP GIFs of 36 KB each, uploaded together: 816 MiB). GIFs are
 * drawings and animations, not photos; 4,096 × 4,096 is far above any real one.
 */
export const GIF_MAX_PIXELS = 4096 * 4096;

/** What an image's header says, read without decoding its pixels. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  /** One page's (or frame's) height. */
  height: number;
  /** EXIF orientation, 1 (stored upright) to 8. */
  orientation: number;
}

/** Why a header refuses an image before any decoding; each caller words it with its own error codes. */
export type ImageHeaderProblem =
  /** A picture in a format people send that is not taken (BMP, SVG, …), with how to convert it. */
  | { kind: 'unsupported-format'; unsupported: UnsupportedFormat }
  /** Not a picture the server can read; `zip`: an archive sent where an image was expected. */
  | { kind: 'unreadable'; zip: boolean }
  | { kind: 'no-size' }
  /** More pixels than the limit, or TIFF pieces too large to decode whole: `message` says which and what to send. */
  | { kind: 'too-large'; message: string };

export type ImageHeaderResult = { ok: true; header: ImageHeader } | { ok: false; problem: ImageHeaderProblem };

/** A size as people read it: 64 MiB, 500 KiB. */
export function bytesText(bytes: number): string {
  return bytes >= MiB ? `${Number((bytes / MiB).toFixed(1))} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/**
 * Format and size of an image from its header alone, refusing what must not be decoded (decompression bombs: more
 * than `maxPixels`, or a TIFF whose compressed strips or tiles are too large to decode whole). The one check before
 * decoding of uploads and predictions: a 404-byte TIFF or a 43-byte GIF can declare 7,200 × 7,200 pixels.
 */
export async function readImageHeader(bytes: Buffer, limits: { maxPixels: number }): Promise<ImageHeaderResult> {
  const refused = (problem: ImageHeaderProblem): ImageHeaderResult => ({ ok: false, problem });
  const unsupported = unsupportedFormatOf(bytes);
  if (unsupported) return refused({ kind: 'unsupported-format', unsupported });
  let header = pngHeader(bytes);
  if (!header) {
    let metadata: Metadata;
    try {
      // Only the header is read here, so no pixel limit yet: the size is checked against ours below.
      metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
    } catch {
      return refused({ kind: 'unreadable', zip: bytes.subarray(0, 4).equals(ZIP_SIGNATURE) });
    }
    const format = formatNameOf(metadata);
    if (!isSupportedImageFormat(format)) {
      return refused({ kind: 'unsupported-format', unsupported: unsupportedFormatNamed(format) });
    }
    header = {
      format,
      width: metadata.width ?? 0,
      height: metadata.pageHeight ?? metadata.height ?? 0,
      orientation: metadata.orientation ?? 1,
    };
  }
  const { width, height } = header;
  if (width * height === 0) return refused({ kind: 'no-size' });
  if (width * height > limits.maxPixels) {
    return refused({
      kind: 'too-large',
      message: `The image is ${width}x${height} pixels; at most ${limits.maxPixels} pixels are accepted.`,
    });
  }
  if (header.format === 'tiff' && largestCompressedTiffPieceBytes(bytes) > MAX_TIFF_PIECE_BYTES) {
    return refused({
      kind: 'too-large',
      message:
        `The TIFF is compressed in strips or tiles of more than ${bytesText(MAX_TIFF_PIECE_BYTES)} each once ` +
        'decoded, which are decoded whole: save it again as PNG or JPEG, or as a TIFF in strips (as most programs ' +
        'write them).',
    });
  }
  if (header.format === 'gif' && width * height > HOLLOW_GIF_CHECKED_PIXELS) {
    const paintable = gifFirstFramePaintablePixels(bytes);
    if (paintable !== null && paintable < width * height * HOLLOW_GIF_SHARE) {
      return refused({
        kind: 'too-large',
        message:
          `The GIF declares a ${width}x${height} canvas, but its first frame holds at most ${paintable} of those ` +
          'pixels (the rest is empty or missing), and a GIF is decoded onto its whole canvas: crop the canvas to the ' +
          'picture, or save it again as PNG or JPEG.',
      });
    }
  }
  if (header.format === 'gif' && width * height > GIF_MAX_PIXELS) {
    return refused({
      kind: 'too-large',
      message:
        `The GIF is ${width}x${height} pixels; a GIF is decoded whole, so at most ${GIF_MAX_PIXELS} pixels ` +
        '(4096x4096) are taken in one: save it again as PNG or JPEG, or scale it down.',
    });
  }
  return { ok: true, header };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/**
 * The size of a PNG straight from its IHDR chunk, without a round trip through libvips: most images are small PNGs
 * and JPEGs, and this halves the sharp calls for PNGs. Anything unusual (a size of 0 too) goes to sharp, and so does a
 * PNG with EXIF (an eXIf chunk, which ImageMagick and exporters copy from a photo): its orientation turns the pixels
 * when decoded, so the upright size is sharp's to tell.
 */
function pngHeader(bytes: Buffer): ImageHeader | null {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    return null;
  }
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (width === 0 || height === 0 || hasPngChunkBeforePixels(bytes, 'eXIf')) return null;
  return { format: 'png', width, height, orientation: 1 };
}

/** Whether a PNG holds a chunk of this type before its first pixel data (IDAT), where decoders read eXIf. */
function hasPngChunkBeforePixels(bytes: Buffer, type: string): boolean {
  // Each chunk: its data's length (4 bytes), its type (4), the data, a CRC (4).
  for (let at = PNG_SIGNATURE.length; at + 8 <= bytes.length; at += 12 + bytes.readUInt32BE(at)) {
    const chunk = bytes.toString('latin1', at + 4, at + 8);
    if (chunk === type) return true;
    if (chunk === 'IDAT') return false;
  }
  return false;
}
