import { Injectable } from '@nestjs/common';
import sharp from 'sharp';
import { DomainError } from '@diyml/core/pure';
import {
  bytesText,
  convertHeicToJpeg,
  type ImageHeaderProblem,
  readImageHeader,
  SUPPORTED_IMAGE_FORMATS_TEXT,
  type UnsupportedFormat,
} from '@diyml/datasets';
import { decodingBudget, type PredictOptions } from '@diyml/ml';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { DeploymentSettings } from '../../deployment-settings.js';
import { ModelCache } from '../../inference/model-cache.js';

export interface ApiPrediction {
  label: string;
  probability: number;
  box?: { x: number; y: number; width: number; height: number };
}

/** A pixel count as people read it: 52 million pixels, 40,000 pixels. */
function pixelsText(pixels: number): string {
  return pixels >= 1_000_000
    ? `${Number((pixels / 1_000_000).toFixed(1))} million pixels`
    : `${pixels.toLocaleString('en-US')} pixels`;
}

/** 415: a picture, in a format people send (BMP, SVG, …) that is not taken; says how to convert it. */
function unsupportedFormat({ format, message }: UnsupportedFormat): DomainError {
  return new DomainError('unsupported-media-type', DeploymentErrors.UNSUPPORTED_IMAGE_FORMAT, message, { format });
}

/** Checks an image's header (a HEIC photo converted to JPEG first), then predicts on it with the (cached) model. */
@Injectable()
export class PredictionService {
  constructor(
    private readonly cache: ModelCache,
    private readonly settings: DeploymentSettings,
  ) {}

  /** Predictions named by `labels` (model-output order). */
  async predict(
    modelSha256: string,
    labels: readonly string[],
    sent: Buffer,
    options: PredictOptions,
  ): Promise<ApiPrediction[]> {
    const image = await this.takenImage(sent);
    const pixels = await this.checkHeader(image);
    // The model decodes the image in the process's pixel budget, which uploads and thumbnails share.
    const predictions = await this.cache
      .use(modelSha256, ({ batcher }) => batcher.predict(image, options))
      .catch(async (error: unknown) => {
        // The header was fine: find out whether the picture itself is damaged (only on this error path).
        if (!(await decodingBudget.run(() => decodes(image), { weight: pixels }))) {
          throw this.invalidImage('it is truncated or damaged');
        }
        throw error;
      });
    return predictions.map(({ label: own, labelIndex, probability, box }) => {
      const label = labels[labelIndex] ?? own;
      return box ? { label, probability, box } : { label, probability };
    });
  }

  /**
   * The image as predictions take it: a HEIC photo converted to an upright JPEG (within PREDICT_MAX_PIXELS), any
   * other the bytes sent. For callers that keep the image too, so what is kept is what was predicted on.
   */
  async takenImage(sent: Buffer): Promise<Buffer> {
    const conversion = await convertHeicToJpeg(sent, { maxPixels: this.settings.PREDICT_MAX_PIXELS });
    if (!conversion) return sent;
    if (conversion.ok) return conversion.jpeg;
    throw 'problem' in conversion
      ? this.refusal(conversion.problem)
      : this.invalidImage('it is a HEIC photo that could not be decoded (truncated or damaged)');
  }

  /** Format and size from the header alone (the check uploads make too): refuses decompression bombs. The pixels. */
  private async checkHeader(image: Buffer): Promise<number> {
    const read = await readImageHeader(image, { maxPixels: this.settings.PREDICT_MAX_PIXELS });
    if (!read.ok) throw this.refusal(read.problem);
    return read.header.width * read.header.height;
  }

  /** A header's refusal in the deployments' codes and words. */
  private refusal(problem: ImageHeaderProblem): DomainError {
    switch (problem.kind) {
      case 'unsupported-format':
        return unsupportedFormat(problem.unsupported);
      case 'unreadable':
        return this.invalidImage('its bytes are not a picture this server can read');
      case 'no-size':
        return this.invalidImage('it has no width or height');
      case 'too-large':
        return new DomainError('too-large', DeploymentErrors.IMAGE_TOO_LARGE, problem.message);
    }
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
}

async function decodes(image: Buffer): Promise<boolean> {
  try {
    await sharp(image, { failOn: 'error' }).raw().toBuffer();
    return true;
  } catch {
    return false;
  }
}
