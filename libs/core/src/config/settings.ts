import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength, validateSync } from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/**
 * Every setting diyml reads from the environment, with its default. The embedded mode needs none of them;
 * a connection string switches that part to its distributed adapter.
 */
export class Settings {
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  EVENTSTORE_CONNECTION_STRING?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  MONGODB_URI?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  REDIS_URL?: string;

  /** Namespace of the BullMQ queues in Redis, so several installations (or test runs) can share one Redis. */
  @IsString()
  @MinLength(1)
  QUEUE_PREFIX: string = 'diyml';

  /** Signs login tokens. Embedded default: a random secret kept in DATA_DIR/jwt-secret. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32)
  JWT_SECRET?: string;

  @IsInt()
  @Min(60)
  @Max(30 * 24 * 3600)
  JWT_EXPIRES_IN_SECONDS: number = 3600;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** How long a write waits for its read models before answering (read-your-writes). */
  @IsInt()
  @Min(0)
  @Max(60000)
  READ_YOUR_WRITES_TIMEOUT_MS: number = 5000;

  /** Archives (dataset and model imports): all entries together, counted as they really inflate. */
  @IsInt()
  @Min(1)
  ARCHIVE_MAX_INFLATED_BYTES: number = 1024 * 1024 * 1024;

  /** Archives: one entry (model weights, a COCO JSON file), counted as it really inflates. */
  @IsInt()
  @Min(1)
  ARCHIVE_MAX_ENTRY_BYTES: number = 256 * 1024 * 1024;

  /** Archives: entries (files and folders) in one zip. */
  @IsInt()
  @Min(1)
  ARCHIVE_MAX_ENTRIES: number = 50_000;

  /** Archives: inflated bytes per compressed byte of an entry past its first MiB (zip-bomb guard). */
  @IsInt()
  @Min(2)
  ARCHIVE_MAX_RATIO: number = 200;
}

export const SETTING_NAMES = [
  'PORT',
  'DATA_DIR',
  'EVENTSTORE_CONNECTION_STRING',
  'MONGODB_URI',
  'REDIS_URL',
  'QUEUE_PREFIX',
  'JWT_SECRET',
  'JWT_EXPIRES_IN_SECONDS',
  'LOG_LEVEL',
  'READ_YOUR_WRITES_TIMEOUT_MS',
  'ARCHIVE_MAX_INFLATED_BYTES',
  'ARCHIVE_MAX_ENTRY_BYTES',
  'ARCHIVE_MAX_ENTRIES',
  'ARCHIVE_MAX_RATIO',
] as const satisfies readonly (keyof Settings)[];

/** For ConfigModule.validate: a bad setting stops start-up with a message naming it and what it must be. */
export function validateSettings(environment: Record<string, unknown>): Settings {
  const settings = plainToInstance(Settings, environment, {
    enableImplicitConversion: true,
    excludeExtraneousValues: false,
  });
  const errors = validateSync(settings, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (error) => `  ${error.property}=${JSON.stringify(error.value)}: ${Object.values(error.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return settings;
}
