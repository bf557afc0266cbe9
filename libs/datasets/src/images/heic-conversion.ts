import sharp, { type Metadata } from 'sharp';
import { ConcurrencyGate, siblingModule, startWorkerThread, WorkerThreadPool } from '@diyml/core/pure';
import { decodingBudget } from '@diyml/ml/pure';
import { formatNameOf, isGenericHeif, isHeicPhoto } from './image-formats.js';
import type { ImageHeaderProblem } from './image-header.js';
import { MAX_JPEG_ICC_PROFILE_BYTES, withIccProfile } from './jpeg-colour-profile.js';

export interface ToHeicThread {
  bytes: Uint8Array;
  maxPixels: number;
}

export type FromHeicThread =
  | { type: 'decoded'; width: number; height: number; rgba: Uint8Array }
  | { type: 'too-large'; width: number; height: number }
  | { type: 'failed'; message: string };

/** The JPEG a HEIC photo is kept as: high enough that training and thumbnails see no loss worth the bytes. */
const JPEG_QUALITY = 92;

/**
 * What a HEIC photo became: the JPEG to use in its place, or why it cannot be: a header problem (too many pixels,
 * no size), or `undecodable` with the decoder's words.
 */
export type HeicConversion =
  { ok: true; jpeg: Buffer } | { ok: false; problem: ImageHeaderProblem } | { ok: false; undecodable: string };

/**
 * The process's HEIC threads: one kept warm for the next photo of a batch (a thread starts in ~0.2 s), closed after
 * 10 s unused, as a thread that decoded a 12-MP photo holds ~150 MiB of wasm heap; one whose decode failed is closed.
 * `heic-decode` is loaded before the TypeScript hooks when running from sources (see startWorkerThread).
 */
export const heicThreads = new WorkerThreadPool(
  () => startWorkerThread(siblingModule(import.meta.url, 'heic-decoding.worker'), {}, ['heic-decode']),
  { maxIdle: 1, maxRunsPerThread: 100, idleTimeoutMs: 10_000 },
);

/**
 * HEIC photos decoded at once in this process: each takes a core for ~1 s per 12 MP and its thread ~150 MiB, so more
 * at once (the pixel budget alone lets four 12-MP photos through) would only take more memory.
 */
const heicDecodes = new ConcurrencyGate(2);

/**
 * A HEIC/HEIF photo (an iPhone's default, HEVC-coded, which sharp's prebuilt libvips does not decode) converted to a
 * JPEG, upright, once, so that everything after (checks, storage, thumbnails, training, predictions) handles a JPEG.
 * The photo's ICC colour profile (an iPhone's Display P3) is embedded in the JPEG, so its pixels keep their colours.
 * Null when the bytes are no HEIC (by its brands, or a generic HEIF whose header says HEVC). Its size is read from the header and checked against `maxPixels` before decoding;
 * the decode runs on a worker thread within the process's pixel budget. Deterministic: the same photo gives the same
 * JPEG bytes, so a photo sent twice is a duplicate.
 */
export async function convertHeicToJpeg(bytes: Buffer, limits: { maxPixels: number }): Promise<HeicConversion | null> {
  const branded = isHeicPhoto(bytes);
  if (!branded && !isGenericHeif(bytes)) return null;
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    return branded ? { ok: false, undecodable: firstLineOf(error) } : null;
  }
  // A generic HEIF holding AV1 (or anything else sharp decodes) is sharp's.
  if (formatNameOf(metadata) !== 'heic') return null;
  const { width = 0, height = 0 } = metadata;
  if (width * height === 0) return { ok: false, problem: { kind: 'no-size' } };
  if (width * height > limits.maxPixels) return { ok: false, problem: tooLarge(width, height, limits.maxPixels) };
  // The budget is taken last: a photo waiting for a thread holds no pixels that other images could decode with.
  return heicDecodes.run(() =>
    decodingBudget.run(() => decodeToJpeg(bytes, limits.maxPixels, metadata.icc), { weight: width * height }),
  );
}

async function decodeToJpeg(bytes: Buffer, maxPixels: number, profile: Buffer | undefined): Promise<HeicConversion> {
  // A copy of the bytes is moved to the thread: the caller's buffer may be a view into a larger one.
  const sent = new Uint8Array(bytes);
  const answer = await heicThreads.request<FromHeicThread>({ bytes: sent, maxPixels } satisfies ToHeicThread, {
    reusable: (answer) => answer.type !== 'failed',
    stopped: (code) => new Error(`the HEIC decoding thread stopped (exit code ${code})`),
    transfer: [sent.buffer],
  });
  switch (answer.type) {
    case 'failed':
      return { ok: false, undecodable: answer.message };
    case 'too-large':
      return { ok: false, problem: tooLarge(answer.width, answer.height, maxPixels) };
    case 'decoded': {
      const { width, height, rgba } = answer;
      const jpeg = await sharp(rgba, { raw: { width, height, channels: 4 } })
        // Transparency (rare in HEIC) onto white: a JPEG has no alpha.
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: JPEG_QUALITY })
        .toBuffer();
      // The pixels are as decoded, in the photo's colour space: its profile says what they mean.
      const fits = profile && profile.length <= MAX_JPEG_ICC_PROFILE_BYTES;
      return { ok: true, jpeg: fits ? withIccProfile(jpeg, profile) : jpeg };
    }
  }
}

function tooLarge(width: number, height: number, maxPixels: number): ImageHeaderProblem {
  return {
    kind: 'too-large',
    message: `The image is ${width}x${height} pixels; at most ${maxPixels} pixels are accepted.`,
  };
}

function firstLineOf(error: unknown): string {
  return String((error as Error).message ?? error)
    .split('\n')[0]
    .slice(0, 200);
}
