import { Injectable } from '@nestjs/common';
import sharp, { type Metadata } from 'sharp';
import { DomainError } from '../../../../core/src/index.js';
import { SUPPORTED_IMAGE_FORMATS } from '../../../../datasets/src/index.js';
import type { PredictOptions } from '../../../../ml/src/index.js';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { DeploymentSettings } from '../../deployment-settings.js';
import { ModelCache } from '../../inference/model-cache.js';

export interface ApiPrediction {
  label: string;
  probability: number;
  box?: { x: number; y: number; width: number; height: number };
}

function invalidImage(reason: string): DomainError {
  return DomainError.validation(DeploymentErrors.INVALID_IMAGE, `The body is not a usable image: ${reason}.`);
}

/** Checks an image's header, then predicts on it with the (cached) model. */
@Injectable()
export class PredictionService {
  constructor(
    private readonly cache: ModelCache,
    private readonly settings: DeploymentSettings,
  ) {}

  /** Predictions named by `labels` (model-output order). */
  async predict(modelSha256: string, labels: readonly string[], image: Buffer, options: PredictOptions): Promise<ApiPrediction[]> {
    await this.checkHeader(image);
    let predictions;
    try {
      predictions = await this.cache.use(modelSha256, ({ batcher }) => batcher.predict(image, options));
    } catch (error) {
      // The header was fine: find out whether the picture itself is damaged (only on this error path).
      if (!(await decodes(image))) throw invalidImage('it is truncated or damaged');
      throw error;
    }
    return predictions.map(({ label: own, labelIndex, probability, box }) => {
      const label = labels[labelIndex] ?? own;
      return box ? { label, probability, box } : { label, probability };
    });
  }

  /** Format and size from the header alone: cheap, and refuses decompression bombs before decoding. */
  private async checkHeader(image: Buffer): Promise<void> {
    let metadata: Metadata;
    try {
      metadata = await sharp(image, { limitInputPixels: false }).metadata();
    } catch {
      throw invalidImage(`not an image in a supported format (${SUPPORTED_IMAGE_FORMATS.join(', ')})`);
    }
    const format = metadata.format === 'heif' && metadata.compression === 'av1' ? 'avif' : metadata.format;
    if (!(SUPPORTED_IMAGE_FORMATS as readonly string[]).includes(format)) {
      throw invalidImage(`${String(metadata.format).toUpperCase()} is not supported; use ${SUPPORTED_IMAGE_FORMATS.join(', ')}`);
    }
    const pixels = (metadata.width ?? 0) * (metadata.pageHeight ?? metadata.height ?? 0);
    if (pixels === 0) throw invalidImage('it has no width or height');
    if (pixels > this.settings.PREDICT_MAX_PIXELS) {
      throw new DomainError(
        'too-large',
        DeploymentErrors.IMAGE_TOO_LARGE,
        `The image is ${metadata.width}x${metadata.height} pixels; at most ${this.settings.PREDICT_MAX_PIXELS} pixels are accepted.`,
      );
    }
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
