import { Injectable } from '@nestjs/common';
import sharp, { type Metadata } from 'sharp';
import { ConcurrencyGate, DomainError } from '@diyml/core/pure';
import {
  formatNameOf,
  isSupportedImageFormat,
  SUPPORTED_IMAGE_FORMATS_TEXT,
  type UnsupportedFormat,
  unsupportedFormatNamed,
  unsupportedFormatOf,
} from '@diyml/datasets';
import type { PredictOptions } from '@diyml/ml';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { DeploymentSettings } from '../../deployment-settings.js';
import { ModelCache } from '../../inference/model-cache.js';
import { largestCompressedTiffPieceBytes } from './tiff-strips.js';

export interface ApiPrediction {
  label: string;
  probability: number;
  box?: { x: number; y: number; width: number; height: number };
}

const MiB = 1024 * 1024;
/**
 * The largest compressed TIFF strip or tile decoded: libvips decodes one whole, and the api's memory holds it twice on
 * the way (one strip of 7,200 × 7,200 RGB pixels: +330 MB). Writers cut strips of a few KiB and tiles of 256 × 256; a
 * 20-MP RGB picture in one strip still fits.
 */
const MAX_TIFF_PIECE_BYTES = 64 * MiB;

/** A size as people read it: 32 MiB, 500 KiB. */
function bytesText(bytes: number): string {
  return bytes >= MiB ? `${Number((bytes / MiB).toFixed(1))} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/** A pixel count as people read it: 52 million pixels, 40,000 pixels. */
function pixelsText(pixels: number): string {
  return pixels >= 1_000_000
    ? `${Number((pixels / 1_000_000).toFixed(1))} million pixels`
    : `${pixels.toLocaleString('en-US')} pixels`;
}

/** 415: a picture, in a format people send (an iPhone's HEIC, BMP, …) that is not taken; says how to convert it. */
function unsupportedFormat({ format, message }: UnsupportedFormat): DomainError {
  return new DomainError('unsupported-media-type', DeploymentErrors.UNSUPPORTED_IMAGE_FORMAT, message, { format });
}

/** Checks an image's header, then predicts on it with the (cached) model. */
@Injectable()
export class PredictionService {
  /**
   * Pixels decoded at once: one image of the largest size accepted, or several smaller ones. Decoding costs memory by
   * the pixel, not by the byte: a 43-byte GIF or a 914-byte TIFF declaring 7,200 × 7,200 pixels decodes to ~200 MB,
   * and eight sent at once raised the api's memory by 1.2-1.7 GB.
   */
  private readonly decoding: ConcurrencyGate;

  constructor(
    private readonly cache: ModelCache,
    private readonly settings: DeploymentSettings,
  ) {
    this.decoding = new ConcurrencyGate(settings.PREDICT_MAX_PIXELS);
  }

  /** Predictions named by `labels` (model-output order). */
  async predict(
    modelSha256: string,
    labels: readonly string[],
    image: Buffer,
    options: PredictOptions,
  ): Promise<ApiPrediction[]> {
    const pixels = await this.checkHeader(image);
    let predictions;
    try {
      predictions = await this.decoding.run(
        () => this.cache.use(modelSha256, ({ batcher }) => batcher.predict(image, options)),
        { weight: pixels },
      );
    } catch (error) {
      // The header was fine: find out whether the picture itself is damaged (only on this error path).
      if (!(await decodes(image))) throw this.invalidImage('it is truncated or damaged');
      throw error;
    }
    return predictions.map(({ label: own, labelIndex, probability, box }) => {
      const label = labels[labelIndex] ?? own;
      return box ? { label, probability, box } : { label, probability };
    });
  }

  /** Format and size from the header alone: cheap, and refuses decompression bombs before decoding. Answers the pixels. */
  private async checkHeader(image: Buffer): Promise<number> {
    const unsupported = unsupportedFormatOf(image);
    if (unsupported) throw unsupportedFormat(unsupported);
    const png = pngSize(image);
    if (png) {
      // PNG, the common case: the size is in the IHDR chunk, no libvips round trip needed.
      return this.checkPixels(png.width, png.height);
    }
    let metadata: Metadata;
    try {
      metadata = await sharp(image, { limitInputPixels: false }).metadata();
    } catch {
      throw this.invalidImage('its bytes are not a picture this server can read');
    }
    const format = formatNameOf(metadata);
    if (!isSupportedImageFormat(format)) throw unsupportedFormat(unsupportedFormatNamed(format));
    if (metadata.format === 'tiff' && largestCompressedTiffPieceBytes(image) > MAX_TIFF_PIECE_BYTES) {
      throw new DomainError(
        'too-large',
        DeploymentErrors.IMAGE_TOO_LARGE,
        `The TIFF is compressed in strips or tiles of more than ${bytesText(MAX_TIFF_PIECE_BYTES)} each once decoded, ` +
          'which are decoded whole: save it again as PNG or JPEG, or as a TIFF in strips (as most programs write them).',
      );
    }
    return this.checkPixels(metadata.width ?? 0, metadata.pageHeight ?? metadata.height ?? 0);
  }

  /**
   * 400 INVALID_IMAGE: what is wrong with it, then what is taken, so the caller knows what to send instead; the two
   * parts also in `details` (`reason`, `accepted`), for a screen to word them around a file's name.
   */
  private invalidImage(reason: string): DomainError {
    const accepted =
      `${SUPPORTED_IMAGE_FORMATS_TEXT}, at most ${bytesText(this.settings.PREDICT_MAX_IMAGE_BYTES)} ` +
      `and ${pixelsText(this.settings.PREDICT_MAX_PIXELS)}`;
    return DomainError.validation(
      DeploymentErrors.INVALID_IMAGE,
      `The image sent is not usable: ${reason}. Send one whole photo file, unchanged, as the body (or the multipart ` +
        `field "image"): ${accepted}.`,
      { reason, accepted },
    );
  }

  private checkPixels(width: number, height: number): number {
    if (width * height === 0) throw this.invalidImage('it has no width or height');
    if (width * height > this.settings.PREDICT_MAX_PIXELS) {
      throw new DomainError(
        'too-large',
        DeploymentErrors.IMAGE_TOO_LARGE,
        `The image is ${width}x${height} pixels; at most ${this.settings.PREDICT_MAX_PIXELS} pixels are accepted.`,
      );
    }
    return width * height;
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk, or null when the bytes do not start like a PNG. */
function pngSize(bytes: Buffer): { width: number; height: number } | null {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR')
    return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

async function decodes(image: Buffer): Promise<boolean> {
  try {
    await sharp(image, { failOn: 'error' }).raw().toBuffer();
    return true;
  } catch {
    return false;
  }
}
