import sharp, { type Metadata, type Sharp } from 'sharp';
import { mapConcurrently } from '@diyml/core/pure';
import type { Box } from '../boxes/box.js';
import { decodingBudget } from './decoding-budget.js';
import { decodingToSrgb } from './srgb-pipeline.js';

export type Channels = 1 | 3;

/** Already-decoded pixels, row-major, interleaved channels (0–255). */
export interface RawImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** Encoded image bytes (JPEG, PNG, WebP, …) or raw pixels. */
export type ImageSource = Uint8Array | RawImage;

export interface ImageSize {
  width: number;
  height: number;
}

export interface DecodedImage {
  /** Row-major, interleaved channels, 0–255; normalise with `toUnitRange`. */
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: Channels;
}

/** Where the source image sits inside a letterboxed image, in target pixels. */
export interface LetterboxTransform {
  sourceWidth: number;
  sourceHeight: number;
  targetWidth: number;
  targetHeight: number;
  /** Size of the resized source inside the target. */
  contentWidth: number;
  contentHeight: number;
  /** Top-left corner of the resized source inside the target. */
  offsetX: number;
  offsetY: number;
}

export interface LetterboxedImage extends DecodedImage {
  transform: LetterboxTransform;
}

/**
 * libvips' operation cache kept the decoded pixels of recent images: about 150 MiB for each 50-MP progressive JPEG, up
 * to 100 of them, in a process that never decodes the same bytes twice (each upload, prediction and training image
 * is a new buffer). Off for the whole process, as the cache is libvips' own.
 */
sharp.cache(false);

/** Grey padding, as YOLO-style detectors use, so the border is neither a dark nor a bright edge. */
const LETTERBOX_GREY = { r: 114, g: 114, b: 114 };

function isRawImage(source: ImageSource): source is RawImage {
  return !(source instanceof Uint8Array);
}

/** `header`: the source's header when the caller read it already (one read serves the size and the colours). */
async function open(source: ImageSource, header?: Metadata): Promise<Sharp> {
  if (isRawImage(source)) {
    const { pixels, width, height, channels } = source;
    return sharp(pixels, { raw: { width, height, channels } });
  }
  // Applies the EXIF orientation so phone photos are upright; alpha is flattened onto white (toPixels).
  return (await decodingToSrgb(sharp(source, { failOn: 'error' }), header)).rotate();
}

async function toPixels(image: Sharp, channels: Channels): Promise<DecodedImage> {
  const coloured =
    channels === 1
      ? image.flatten({ background: '#ffffff' }).toColourspace('b-w')
      : image.flatten({ background: '#ffffff' }).toColourspace('srgb');
  const { data, info } = await coloured.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`expected ${channels} channels after decoding, got ${info.channels}`);
  return {
    pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels,
  };
}

export interface DecodeOptions {
  /**
   * The source's upright size (after its EXIF orientation), when the caller read its header already (an upload's or
   * a prediction's check): spares reading it again to weigh the decode in the pixel budget.
   */
  sourceSize?: ImageSize;
}

/** Decodes and stretches an image to exactly `size` (classification input). */
export async function decodeResized(
  source: ImageSource,
  size: ImageSize,
  channels: Channels,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  if (
    isRawImage(source) &&
    source.width === size.width &&
    source.height === size.height &&
    source.channels === channels
  ) {
    return { pixels: source.pixels, width: size.width, height: size.height, channels };
  }
  const header = isRawImage(source) || options.sourceSize ? undefined : await sharp(source).metadata();
  const resized = async () =>
    toPixels((await open(source, header)).resize(size.width, size.height, { fit: 'fill' }), channels);
  if (isRawImage(source)) return resized();
  const { width, height } = options.sourceSize ?? uprightSize(header!);
  return decodingBudget.run(resized, { weight: width * height });
}

/** Source dimensions after EXIF orientation. */
async function orientedSize(source: ImageSource): Promise<ImageSize> {
  if (isRawImage(source)) return { width: source.width, height: source.height };
  return uprightSize(await sharp(source).metadata());
}

function uprightSize(header: Metadata): ImageSize {
  const swapped = (header.orientation ?? 1) >= 5;
  const width = header.width ?? 0;
  const height = header.height ?? 0;
  return swapped ? { width: height, height: width } : { width, height };
}

export function letterboxTransform(source: ImageSize, target: ImageSize): LetterboxTransform {
  const scale = Math.min(target.width / source.width, target.height / source.height);
  const contentWidth = Math.max(1, Math.min(target.width, Math.round(source.width * scale)));
  const contentHeight = Math.max(1, Math.min(target.height, Math.round(source.height * scale)));
  return {
    sourceWidth: source.width,
    sourceHeight: source.height,
    targetWidth: target.width,
    targetHeight: target.height,
    contentWidth,
    contentHeight,
    offsetX: Math.floor((target.width - contentWidth) / 2),
    offsetY: Math.floor((target.height - contentHeight) / 2),
  };
}

/** Where the letterboxed `source` lies in a `size` input (its header read, not its pixels), to place boxes on it. */
export async function letterboxTransformOf(source: ImageSource, size: ImageSize): Promise<LetterboxTransform> {
  return letterboxTransform(await orientedSize(source), size);
}

/** Decodes and scales an image to fit `size` keeping its aspect ratio, padding the rest (detection input). */
export async function decodeLetterboxed(
  source: ImageSource,
  size: ImageSize,
  channels: Channels,
  options: DecodeOptions = {},
): Promise<LetterboxedImage> {
  const header = isRawImage(source) || options.sourceSize ? undefined : await sharp(source).metadata();
  const transform = letterboxTransform(
    options.sourceSize ?? (header ? uprightSize(header) : await orientedSize(source)),
    size,
  );
  const { contentWidth, contentHeight, offsetX, offsetY } = transform;
  const letterboxed = async () => {
    const image = (await open(source, header)).resize(contentWidth, contentHeight, { fit: 'fill' }).extend({
      top: offsetY,
      bottom: size.height - contentHeight - offsetY,
      left: offsetX,
      right: size.width - contentWidth - offsetX,
      background: LETTERBOX_GREY,
    });
    return { ...(await toPixels(image, channels)), transform };
  };
  if (isRawImage(source)) return letterboxed();
  return decodingBudget.run(letterboxed, { weight: transform.sourceWidth * transform.sourceHeight });
}

/** A box in source-image fractions to fractions of the letterboxed image. */
export function boxToLetterbox(box: Box, t: LetterboxTransform): Box {
  return {
    x: (box.x * t.contentWidth + t.offsetX) / t.targetWidth,
    y: (box.y * t.contentHeight + t.offsetY) / t.targetHeight,
    width: (box.width * t.contentWidth) / t.targetWidth,
    height: (box.height * t.contentHeight) / t.targetHeight,
  };
}

/** A box in letterboxed-image fractions back to source-image fractions, clipped to the image. */
export function boxFromLetterbox(box: Box, t: LetterboxTransform): Box {
  const left = clamp01((box.x * t.targetWidth - t.offsetX) / t.contentWidth);
  const top = clamp01((box.y * t.targetHeight - t.offsetY) / t.contentHeight);
  const right = clamp01(((box.x + box.width) * t.targetWidth - t.offsetX) / t.contentWidth);
  const bottom = clamp01(((box.y + box.height) * t.targetHeight - t.offsetY) / t.contentHeight);
  return { x: left, y: top, width: right - left, height: bottom - top };
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** 0–255 pixels as floats in [0, 1]. */
export function toUnitRange(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

/**
 * Decodes many images with bounded concurrency: sharp works on libuv's thread pool, so a few images in flight keep
 * its threads busy without queueing thousands of buffers at once. Results keep the input order. Each decode of
 * encoded bytes also waits for room in the process's pixel budget, so large images are decoded one at a time.
 */
export function decodeAll<T>(count: number, decodeOne: (index: number) => Promise<T>, concurrency = 4): Promise<T[]> {
  return mapConcurrently(count, decodeOne, concurrency);
}
