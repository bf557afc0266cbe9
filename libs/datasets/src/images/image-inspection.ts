import sharp from 'sharp';
import { decodingBudget } from '@diyml/ml/pure';
import { DatasetErrors } from '../domain/dataset-errors.js';
import { convertHeicToJpeg } from './heic-conversion.js';
import { type ImageHeaderProblem, readImageHeader } from './image-header.js';
import { type ImageFormat, SUPPORTED_IMAGE_FORMATS_TEXT } from './image-formats.js';
import { isStoredSideways } from './image-orientation.js';

export interface InspectionLimits {
  /** Largest accepted file, in bytes. */
  readonly maxFileBytes: number;
  /** Largest accepted width × height (decompression-bomb guard). */
  readonly maxPixels: number;
}

export interface InspectedImage {
  readonly format: ImageFormat;
  /** Upright size, i.e. after the EXIF orientation is applied. */
  readonly width: number;
  readonly height: number;
  /** 64-bit difference hash, 16 hex digits: equal for the same picture re-encoded or resized. */
  readonly dhash: string;
  /** EXIF orientation, 1 (stored upright) to 8: how the stored pixels are turned to show the picture upright. */
  readonly orientation: number;
  /** The bytes to keep instead of those sent: the upright JPEG a HEIC photo was converted to (`format` 'jpeg'). */
  readonly converted?: Buffer;
}

export interface ImageRejection {
  readonly code: string;
  readonly message: string;
}

export type InspectionResult = { ok: true; image: InspectedImage } | { ok: false; rejection: ImageRejection };

/** Images up to this many pixels are decoded in full; larger ones at a reduced size (shrink-on-load). */
const FULL_DECODE_PIXELS = 1024 * 1024;
const HASH_WIDTH = 9;
const HASH_HEIGHT = 8;
/** Grey levels a cell must be brighter than its left neighbour by: flat areas stay 0 despite JPEG noise. */
const HASH_TOLERANCE = 3;

function reject(code: string, message: string): InspectionResult {
  return { ok: false, rejection: { code, message } };
}

/**
 * Decides whether bytes are a usable image, from the bytes alone (never the file name or declared type):
 * reads the header for format and size, refuses decompression bombs before decoding them (readImageHeader), then
 * decodes the whole picture within the process's pixel budget (so a truncated or damaged file is refused) and hashes
 * what it decoded. A HEIC photo is converted to JPEG first (within the same limits), and that JPEG is what is checked
 * and kept (`converted`).
 */
export async function inspectImage(sent: Buffer, limits: InspectionLimits): Promise<InspectionResult> {
  if (sent.length === 0) return reject(DatasetErrors.EMPTY_FILE, 'The file is empty.');
  if (sent.length > limits.maxFileBytes) {
    return reject(DatasetErrors.FILE_TOO_LARGE, `The file has more than ${limits.maxFileBytes} bytes.`);
  }
  const conversion = await convertHeicToJpeg(sent, { maxPixels: limits.maxPixels });
  if (conversion && !conversion.ok) {
    return 'problem' in conversion
      ? { ok: false, rejection: rejectionOf(conversion.problem) }
      : reject(
          DatasetErrors.CORRUPT_IMAGE,
          `The HEIC photo could not be decoded: it is truncated or damaged (the decoder said: ${conversion.undecodable}).`,
        );
  }
  const converted = conversion?.jpeg;
  const bytes = converted ?? sent;
  const read = await readImageHeader(bytes, { maxPixels: limits.maxPixels });
  if (!read.ok) return { ok: false, rejection: rejectionOf(read.problem) };
  const { format, width, height, orientation } = read.header;
  let dhash: string;
  try {
    dhash = await decodingBudget.run(() => decodeAndHash(bytes, width * height, limits.maxPixels), {
      weight: width * height,
    });
  } catch (error) {
    // The decoder's own words, so a refusal that is not about the bytes (a resource running out under load) shows.
    const reason = String((error as Error).message ?? error)
      .split('\n')[0]
      .slice(0, 200);
    return reject(
      DatasetErrors.CORRUPT_IMAGE,
      `The image could not be decoded: it is truncated or damaged (the decoder said: ${reason}).`,
    );
  }
  const rotated = isStoredSideways(orientation);
  const upright = { width: rotated ? height : width, height: rotated ? width : height };
  return { ok: true, image: { format, ...upright, dhash, orientation, ...(converted ? { converted } : {}) } };
}

/** A header's refusal in the datasets' codes and words. */
function rejectionOf(problem: ImageHeaderProblem): ImageRejection {
  switch (problem.kind) {
    case 'unsupported-format':
      return { code: DatasetErrors.UNSUPPORTED_IMAGE_FORMAT, message: problem.unsupported.message };
    case 'unreadable': {
      const supported = `The file is not an image in a supported format (${SUPPORTED_IMAGE_FORMATS_TEXT})`;
      return {
        code: DatasetErrors.UNSUPPORTED_IMAGE,
        message: problem.zip
          ? `${supported}: it is a zip archive. Import an archive of images (a folder per label, or COCO) with ` +
            'POST /v1/projects/{projectId}/images/import.'
          : `${supported}.`,
      };
    }
    case 'no-size':
      return { code: DatasetErrors.CORRUPT_IMAGE, message: 'The image has no width or height.' };
    case 'too-large':
      return { code: DatasetErrors.IMAGE_TOO_LARGE, message: problem.message };
  }
}

async function decodeAndHash(bytes: Buffer, pixels: number, maxPixels: number): Promise<string> {
  // failOn 'warning' (the strictest) turns libjpeg's "premature end of data" into an error.
  // Hashed upright, so a phone photo and the same picture saved upright (an edited copy) are near-duplicates.
  let image = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning' }).rotate();
  // A full raw decode of a small image is cheaper than libvips' resize pipeline; a large one is shrunk while
  // it is decoded, which still reads every byte of it.
  if (pixels > FULL_DECODE_PIXELS) image = image.resize(256, 256, { fit: 'inside' });
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return differenceHash(data, info.width, info.height, info.channels);
}

/**
 * dHash: the picture averaged down to 9x8 grey cells; bit = whether each cell is clearly darker than its
 * right neighbour. Robust to re-encoding, resizing and small brightness changes.
 */
export function differenceHash(pixels: Uint8Array, width: number, height: number, channels: number): string {
  const cells = new Float64Array(HASH_WIDTH * HASH_HEIGHT);
  const counts = new Uint32Array(HASH_WIDTH * HASH_HEIGHT);
  const colourChannels = Math.min(channels, 3);
  // Each column's cell is worked out once, not per pixel: calls to Math in the per-pixel loop took most of its time
  // (all of it under Jest, where each is a global looked up in the test file's context).
  const columnCells = new Uint8Array(width);
  for (let x = 0; x < width; x += 1) columnCells[x] = Math.min(HASH_WIDTH - 1, Math.floor((x * HASH_WIDTH) / width));
  for (let y = 0; y < height; y += 1) {
    const rowCell = Math.min(HASH_HEIGHT - 1, Math.floor((y * HASH_HEIGHT) / height)) * HASH_WIDTH;
    let offset = y * width * channels;
    for (let x = 0; x < width; x += 1, offset += channels) {
      let grey = 0;
      for (let c = 0; c < colourChannels; c += 1) grey += pixels[offset + c];
      const cell = rowCell + columnCells[x];
      cells[cell] += grey / colourChannels;
      counts[cell] += 1;
    }
  }
  let hash = 0n;
  for (let y = 0; y < HASH_HEIGHT; y += 1) {
    for (let x = 0; x < HASH_WIDTH - 1; x += 1) {
      const left = y * HASH_WIDTH + x;
      const mean = (cell: number) => (counts[cell] ? cells[cell] / counts[cell] : 0);
      hash = (hash << 1n) | (mean(left + 1) - mean(left) > HASH_TOLERANCE ? 1n : 0n);
    }
  }
  return hash.toString(16).padStart(16, '0');
}
