// class-transformer's @Type asks the Reflect API for metadata (absent or not) when it decorates.
import 'reflect-metadata';
import { type ClassConstructor, plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

const MiB = 1024 * 1024;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every setting diyml reads from the environment, with its default. The embedded mode needs none of them;
 * a connection string switches that part to its distributed adapter.
 */
export class Settings {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @IsOptional()
  @IsString()
  EVENTSTORE_CONNECTION_STRING?: string;

  @IsOptional()
  @IsString()
  MONGODB_URI?: string;

  /**
   * PostgreSQL for the event log, read models and blobs, e.g. postgres://diyml@db:5432/diyml. An
   * EVENTSTORE_CONNECTION_STRING or MONGODB_URI set beside it takes that part over.
   */
  @IsOptional()
  @IsString()
  POSTGRES_URL?: string;

  /**
   * off: an append or blob answers before PostgreSQL has flushed it to disk (several times faster on a busy
   * disk). A crash of the database server, not of diyml, may then lose the last commits, in order, as the
   * embedded SQLite log may on a power cut. on (default): acknowledged means on disk.
   */
  @IsIn(['on', 'off'])
  POSTGRES_SYNCHRONOUS_COMMIT: 'on' | 'off' = 'on';

  @IsOptional()
  @IsString()
  REDIS_URL?: string;

  /**
   * How long a starting api or worker waits for PostgreSQL (POSTGRES_URL) and Redis (REDIS_URL) to answer before it
   * stops with a message naming the setting; a wrong password or a missing database stops it at once.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  STARTUP_CONNECT_TIMEOUT_SECONDS: number = 30;

  /** Namespace of the BullMQ queues in Redis, so several installations (or test runs) can share one Redis. */
  @IsString()
  @MinLength(1)
  QUEUE_PREFIX: string = 'diyml';

  /**
   * How long a worker holds a job without renewing its lock: how soon another worker takes over a job whose
   * worker died (it looks for such jobs every half of this).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  JOB_LOCK_DURATION_MS: number = 60_000;

  /**
   * With Redis: how often one api looks for background work (trainings, test runs, suggestion runs, video
   * predictions) queued or running with no job behind it (Redis flushed, a job removed by hand) and queues it again,
   * or fails what has a job that ended without recording the outcome.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  LOST_JOBS_SWEEP_SECONDS: number = 60;

  /**
   * Longest graceful shutdown of the api or a worker after SIGTERM or SIGINT: past it the process logs what is still
   * open and exits with code 1, so a connection or store that never closes cannot keep a replaced replica alive. A
   * worker hands its running jobs back to the queue before that (shutdownBudget in libs/jobs).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  SHUTDOWN_TIMEOUT_SECONDS: number = 30;

  /** Signs login tokens. Embedded default: a random secret kept in DATA_DIR/jwt-secret. */
  @IsOptional()
  @IsString()
  @MinLength(32)
  JWT_SECRET?: string;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(30 * 24 * 3600)
  JWT_EXPIRES_IN_SECONDS: number = 3600;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** How long a write waits for its read models before answering (read-your-writes). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60000)
  READ_YOUR_WRITES_TIMEOUT_MS: number = 5000;

  /**
   * A JSON file listing extra backbones (an array of libs/ml BackboneDescriptor, source kind 'url' or
   * 'npm-package'), registered at start; URL weights are downloaded once into DATA_DIR/backbones.
   */
  @IsOptional()
  @IsString()
  BACKBONES_FILE?: string;

  /**
   * Longest time to receive one whole request, body included (Node answers 408 and closes past it). Node's own
   * 300 s refused any upload slower than that: a 512 MiB project archive over a 10 Mbit/s link takes ~430 s.
   * Headers still have to arrive within 60 s.
   */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  REQUEST_TIMEOUT_SECONDS: number = 3600;

  /**
   * Connections open at once (new ones are closed past it). Default: the process's open-file limit less 1,024 (a quarter of a limit under 4,096) kept
   * for the api's own files, so a flood of connections cannot leave it unable to open one.
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(16)
  MAX_CONNECTIONS?: number;

  /**
   * Connections open at once from one client address; 0 for no limit (e.g. behind a reverse proxy, where every
   * connection comes from the proxy, unless the proxy already limits them).
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  MAX_CONNECTIONS_PER_CLIENT: number = 1000;

  /**
   * Longest pause in a request body (408 BODY_IDLE_TIMEOUT past it, the connection closed, a partial upload
   * dropped): a client dribbling a body would otherwise hold its socket for REQUEST_TIMEOUT_SECONDS.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  BODY_IDLE_TIMEOUT_SECONDS: number = 60;

  /** Largest JSON request body (413 PAYLOAD_TOO_LARGE above). */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  JSON_MAX_BYTES: number = MiB;

  /** Largest JSON body of the routes that carry base64 images (Custom Vision's createImagesFromFiles). */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  JSON_IMAGES_MAX_BYTES: number = 32 * MiB;

  /** Deepest nesting of objects and arrays in a JSON body (400 JSON_TOO_DEEP beyond). */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(1000)
  JSON_MAX_DEPTH: number = 32;

  /** Object keys in a whole JSON body (400 JSON_TOO_MANY_KEYS beyond); a 1,000-item label batch needs ~3,000. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  JSON_MAX_KEYS: number = 10_000;

  /** Keys of any one object of a JSON body (400 JSON_TOO_MANY_KEYS beyond): no request DTO has more than a few dozen. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  JSON_MAX_KEYS_PER_OBJECT: number = 200;

  /**
   * Sign-ins (logins and registrations) waiting for their password hash, two of which run at once: past this many, 503
   * SIGN_IN_BUSY with Retry-After at once, so a flood of anonymous logins cannot hold a real one for seconds. Each
   * waits ~25 ms a place on 2 cores: 50 waiting, about 1.3 s.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  SIGN_IN_MAX_WAITING: number = 50;

  /**
   * Memory of each password hash (argon2id, 2 passes), in KiB: the default is OWASP's recommended minimum (19 MiB).
   * Lower only where no attacker gets the hashes, e.g. a test run, where each sign-in otherwise costs ~0.1 CPU-s.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(4 * 1024 * 1024)
  PASSWORD_HASH_MEMORY_KIB: number = 19_456;

  /** Failed sign-ins (password, personal token or deployment key) one account may take per window (429 beyond). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  AUTH_FAILURES_PER_ACCOUNT: number = 10;

  /** Failed sign-ins one client address may make per window, whatever the account (429 beyond). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  AUTH_FAILURES_PER_SOURCE: number = 50;

  /** The window of the failed sign-in counts, in seconds: a blocked caller may retry when it ends. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86_400)
  AUTH_FAILURE_WINDOW_SECONDS: number = 900;

  /**
   * Accounts one client address may register per REGISTRATION_WINDOW_SECONDS (429 beyond): registration is open, and
   * each one hashes a password (19 MiB of argon2id on the thread pool the api's file reads share).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  REGISTRATIONS_PER_SOURCE: number = 30;

  /** Projects one user may own (created or imported); 422 PROJECT_LIMIT_REACHED beyond. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_PROJECTS_PER_USER: number = 100;

  /**
   * Images one project may hold (uploads, imports, video frames, promoted predictions); 422 IMAGE_QUOTA_EXCEEDED
   * beyond. Custom Vision's S0 tier: 100,000. It takes Fashion-MNIST (70,000 images) through the product, which a
   * default of 20,000 refused at its 20,001st image.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_IMAGES_PER_PROJECT: number = 100_000;

  /**
   * Images one user may hold across all their projects; 422 IMAGE_QUOTA_EXCEEDED beyond. Every image is a read-model
   * document the embedded api keeps in memory (15,000 images: 320–430 MB after a restart): one account may hold one
   * full project's worth, not the project quota times MAX_PROJECTS_PER_USER (10,000,000 by default).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_IMAGES_PER_USER: number = 100_000;

  /**
   * Trainings (iterations queued or running, reproductions included) one user may have at once; 429
   * TOO_MANY_ACTIVE_TRAININGS beyond, so no account fills the training queue everyone waits in.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_ACTIVE_TRAININGS_PER_USER: number = 5;

  /** The window of the registration counts, in seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(7 * 86_400)
  REGISTRATION_WINDOW_SECONDS: number = 3600;

  /**
   * Behind a reverse proxy: which proxies to believe about the client address (X-Forwarded-For), as Express's
   * `trust proxy` takes it: a hop count (`1`), `loopback`, or addresses/subnets separated by commas. Unset: the
   * client is the peer of the connection. Failed sign-ins are counted per client address, so set it behind a proxy.
   */
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  /**
   * Origins whose browser pages may call the API (comma-separated, e.g. `https://app.example.org`); unset: CORS
   * is off and only same-origin pages (the console at /) can.
   */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s,/]+(,\s*https?:\/\/[^\s,/]+)*$/, {
    message: 'CORS_ORIGINS must be a comma-separated list of origins such as https://app.example.org',
  })
  CORS_ORIGINS?: string;

  /** Shortest password accepted at registration. */
  @Type(() => Number)
  @IsInt()
  @Min(8)
  @Max(128)
  PASSWORD_MIN_LENGTH: number = 10;

  /** Archives (dataset and model imports): all entries together, counted as they really inflate. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ARCHIVE_MAX_INFLATED_BYTES: number = 1024 * 1024 * 1024;

  /** Archives: one entry (model weights, a COCO JSON file), counted as it really inflates. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ARCHIVE_MAX_ENTRY_BYTES: number = 256 * 1024 * 1024;

  /** Archives: entries (files and folders) in one zip. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ARCHIVE_MAX_ENTRIES: number = 50_000;

  /**
   * Images fetched from URLs (images from URLs, URL predictions): addresses or CIDR ranges, separated by commas,
   * that may be fetched although loopback, private, link-local or reserved (e.g. `10.0.0.0/8,fd00::/8`).
   * Unset: only public addresses.
   */
  @IsOptional()
  @IsString()
  URL_FETCH_ALLOWED_ADDRESSES?: string;

  /** Largest image fetched from a URL. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  URL_FETCH_MAX_BYTES: number = 10 * MiB;

  /** How long a fetch from a URL may take, redirects and body included. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  URL_FETCH_TIMEOUT_MS: number = 10_000;

  /** Redirects a fetch from a URL follows (each hop is checked like the first). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10)
  URL_FETCH_MAX_REDIRECTS: number = 3;

  /**
   * Read-model documents (images, projects) of past snapshots (`asOf` reads) kept in memory for the next reads of the
   * same project and position, least recently used first out; 0 keeps none. Paging through one past position rebuilt
   * the whole project for every page. The default holds one snapshot of a project at the image quota (100,000), or
   * ten of 15,000 images: ~70 MiB of heap for the documents of tiny images (bench/as-of-pages: 0.48 KiB each).
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  AS_OF_CACHE_MAX_DOCUMENTS: number = 150_000;

  /** Archives: inflated bytes per compressed byte of an entry past its first MiB (zip-bomb guard). */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  ARCHIVE_MAX_RATIO: number = 200;
}

export const SETTING_NAMES = [
  'PORT',
  'DATA_DIR',
  'EVENTSTORE_CONNECTION_STRING',
  'MONGODB_URI',
  'POSTGRES_URL',
  'POSTGRES_SYNCHRONOUS_COMMIT',
  'REDIS_URL',
  'STARTUP_CONNECT_TIMEOUT_SECONDS',
  'QUEUE_PREFIX',
  'JOB_LOCK_DURATION_MS',
  'LOST_JOBS_SWEEP_SECONDS',
  'SHUTDOWN_TIMEOUT_SECONDS',
  'JWT_SECRET',
  'JWT_EXPIRES_IN_SECONDS',
  'LOG_LEVEL',
  'READ_YOUR_WRITES_TIMEOUT_MS',
  'BACKBONES_FILE',
  'REQUEST_TIMEOUT_SECONDS',
  'BODY_IDLE_TIMEOUT_SECONDS',
  'MAX_CONNECTIONS',
  'MAX_CONNECTIONS_PER_CLIENT',
  'JSON_MAX_BYTES',
  'JSON_IMAGES_MAX_BYTES',
  'JSON_MAX_DEPTH',
  'JSON_MAX_KEYS',
  'JSON_MAX_KEYS_PER_OBJECT',
  'SIGN_IN_MAX_WAITING',
  'PASSWORD_HASH_MEMORY_KIB',
  'AUTH_FAILURES_PER_ACCOUNT',
  'AUTH_FAILURES_PER_SOURCE',
  'AUTH_FAILURE_WINDOW_SECONDS',
  'REGISTRATIONS_PER_SOURCE',
  'REGISTRATION_WINDOW_SECONDS',
  'MAX_PROJECTS_PER_USER',
  'MAX_ACTIVE_TRAININGS_PER_USER',
  'MAX_IMAGES_PER_PROJECT',
  'MAX_IMAGES_PER_USER',
  'PASSWORD_MIN_LENGTH',
  'TRUST_PROXY',
  'CORS_ORIGINS',
  'ARCHIVE_MAX_INFLATED_BYTES',
  'ARCHIVE_MAX_ENTRY_BYTES',
  'ARCHIVE_MAX_ENTRIES',
  'ARCHIVE_MAX_RATIO',
  'URL_FETCH_ALLOWED_ADDRESSES',
  'URL_FETCH_MAX_BYTES',
  'URL_FETCH_TIMEOUT_MS',
  'URL_FETCH_MAX_REDIRECTS',
  'AS_OF_CACHE_MAX_DOCUMENTS',
] as const satisfies readonly (keyof Settings)[];

/** For ConfigModule.validate: a bad setting stops start-up with a message naming it and what it must be. */
export function validateSettings(environment: Record<string, unknown>): Settings {
  return validateEnvironment(Settings, environment);
}

/**
 * Settings of `type` read from environment strings, or a message naming every bad one and what it must be; an unset
 * or empty setting keeps its default. Numbers are converted by each property's `@Type(() => Number)`, not from
 * decorator metadata: tsx and esbuild write none, so a process started through them would keep the strings and
 * refuse every number.
 */
export function validateEnvironment<T extends object>(
  type: ClassConstructor<T>,
  environment: Record<string, unknown>,
): T {
  const given = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''),
  );
  const settings = plainToInstance(type, given);
  const errors = validateSync(settings);
  if (errors.length > 0) {
    // The value as given: a number that did not parse is NaN once converted, which would show as null.
    const lines = errors.map(
      (error) =>
        `  ${error.property}=${JSON.stringify(given[error.property] ?? error.value)}: ${Object.values(error.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return settings;
}
