import { ConfigService } from '@nestjs/config';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { validateEnvironment } from '@diyml/core';

const MiB = 1024 * 1024;

/** Limits on image uploads and dataset imports, from the environment, with their defaults. */
export class UploadLimits {
  /** Largest accepted image file: a 50-MP phone JPEG weighs 10–25 MiB. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  UPLOAD_MAX_FILE_BYTES: number = 32 * MiB;

  /**
   * Largest accepted width × height of an image (decompression-bomb guard): a phone's 48- or 50-MP photo (8160×6144)
   * passes.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(268_402_689)
  UPLOAD_MAX_PIXELS: number = 52_000_000;

  /** Files in one upload request. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  UPLOAD_MAX_FILES: number = 500;

  /** All files of one upload request together (they are held in memory while checked). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  UPLOAD_MAX_REQUEST_BYTES: number = 512 * MiB;

  /** Largest dataset archive (zip) accepted by the import. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  IMPORT_MAX_ARCHIVE_BYTES: number = 512 * MiB;

  /** Images in one imported archive. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  IMPORT_MAX_FILES: number = 20_000;

  /** Largest video accepted (upload into a project, or prediction through a deployment): 413 VIDEO_TOO_LARGE above. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  VIDEO_MAX_BYTES: number = 200 * MiB;

  /** Frames taken from one video at most (the rest of a long video at the chosen rate is left out). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  VIDEO_MAX_FRAMES: number = 1000;

  /**
   * How long the content claims of a process that died stay its own: each process holds a lease (Redis, PostgreSQL
   * or DATA_DIR/leases.sqlite, as the reactors do) renewed every third of this while it lives; once it lapses,
   * another process takes over the claims of uploads the dead one left unfinished.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  CLAIM_LEASE_TTL_MS: number = 8000;
}

export const UPLOAD_LIMIT_NAMES = [
  'UPLOAD_MAX_FILE_BYTES',
  'UPLOAD_MAX_PIXELS',
  'UPLOAD_MAX_FILES',
  'UPLOAD_MAX_REQUEST_BYTES',
  'IMPORT_MAX_ARCHIVE_BYTES',
  'IMPORT_MAX_FILES',
  'VIDEO_MAX_BYTES',
  'VIDEO_MAX_FRAMES',
  'CLAIM_LEASE_TTL_MS',
] as const satisfies readonly (keyof UploadLimits)[];

export const DEFAULT_UPLOAD_LIMITS = new UploadLimits();

export function validateUploadLimits(environment: Record<string, unknown>): UploadLimits {
  return validateEnvironment(UploadLimits, environment);
}

export const uploadLimitsProvider = {
  provide: UploadLimits,
  inject: [ConfigService],
  useFactory: (config: ConfigService) =>
    validateUploadLimits(Object.fromEntries(UPLOAD_LIMIT_NAMES.map((name) => [name, config.get(name)]))),
};
