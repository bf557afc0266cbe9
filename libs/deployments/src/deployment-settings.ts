import { ConfigService } from '@nestjs/config';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, Max, Min } from 'class-validator';
import { validateEnvironment } from '@diyml/core';

const MiB = 1024 * 1024;

/** Settings of deployments and the prediction endpoint, from the environment, with their defaults. */
export class DeploymentSettings {
  /** Largest image accepted by POST /v1/predict/{deploymentId} (413 above): a 50-MP phone JPEG weighs 10–25 MiB. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  PREDICT_MAX_IMAGE_BYTES: number = 32 * MiB;

  /**
   * Largest width × height of a prediction image (413 above; a decompression-bomb guard): a phone's 48- or 50-MP photo
   * (8160×6144) passes.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(268_402_689)
  PREDICT_MAX_PIXELS: number = 52_000_000;

  /** Predictions one deployment takes per window, over every prediction route (429 beyond). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  PREDICT_RATE_LIMIT: number = 6000;

  /** The rate-limit window, in seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86_400)
  PREDICT_RATE_WINDOW_SECONDS: number = 60;

  /** Models kept loaded for prediction at once (least recently used ones are unloaded). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  MODEL_CACHE_MAX_MODELS: number = 16;

  /** Weight bytes of the models kept loaded at once. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MODEL_CACHE_MAX_BYTES: number = 512 * MiB;

  /** Largest width × height of input an imported model may declare (422 MODEL_INVALID above). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(268_402_689)
  MODEL_MAX_INPUT_PIXELS: number = 1024 * 1024;

  /** Predictions one user may ask a shared model for per window (429 beyond). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SHARED_PREDICT_RATE_LIMIT: number = 600;

  /** The shared-model rate-limit window, in seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86_400)
  SHARED_PREDICT_RATE_WINDOW_SECONDS: number = 60;

  /** How often each api process writes its prediction counts to the log (and at shutdown). */
  @Type(() => Number)
  @IsNumber()
  @Min(0.05)
  @Max(3600)
  USAGE_FLUSH_SECONDS: number = 60;
}

export const DEPLOYMENT_SETTING_NAMES = [
  'PREDICT_MAX_IMAGE_BYTES',
  'PREDICT_MAX_PIXELS',
  'PREDICT_RATE_LIMIT',
  'PREDICT_RATE_WINDOW_SECONDS',
  'MODEL_CACHE_MAX_MODELS',
  'MODEL_CACHE_MAX_BYTES',
  'MODEL_MAX_INPUT_PIXELS',
  'SHARED_PREDICT_RATE_LIMIT',
  'SHARED_PREDICT_RATE_WINDOW_SECONDS',
  'USAGE_FLUSH_SECONDS',
] as const satisfies readonly (keyof DeploymentSettings)[];

export function validateDeploymentSettings(environment: Record<string, unknown>): DeploymentSettings {
  return validateEnvironment(DeploymentSettings, environment);
}

export const deploymentSettingsProvider = {
  provide: DeploymentSettings,
  inject: [ConfigService],
  useFactory: (config: ConfigService) =>
    validateDeploymentSettings(Object.fromEntries(DEPLOYMENT_SETTING_NAMES.map((name) => [name, config.get(name)]))),
};
