import type { Settings } from './settings.js';

/** The URL as it may be logged: its password replaced by ***. An unparsable URL is not shown at all. */
export function maskedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/** A dependency diyml cannot start without did not answer, or refused it; the message is the one line to log. */
export class StartupConnectError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupConnectError';
  }
}

export interface StartupDependency {
  /** The setting that names it, as the operator wrote it: POSTGRES_URL, REDIS_URL. */
  readonly setting: string;
  readonly url: string;
  /** One connection and one round trip, within `timeoutMs`; rejects with the cause otherwise. */
  connect(timeoutMs: number): Promise<void>;
  /** Errors no wait can fix (a wrong password, a database that does not exist): reported at once. */
  isPermanent(error: unknown): boolean;
}

const FIRST_PAUSE_MS = 250;
const MAX_PAUSE_MS = 2000;
/** One try may not take the whole wait: a server that drops packets would leave no time for a second one. */
const MAX_TRY_MS = 10_000;

function causeOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return causeOf(error.errors[0]);
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

/**
 * Connects to `dependency` before the app starts, trying again while it does not answer (a database container
 * still starting) for at most `timeoutMs`. Throws a StartupConnectError naming the setting, the address and the
 * cause: a wrong setting stops start-up instead of leaving a process that retries forever. Outages after a
 * successful start are another matter: the adapters ride them out.
 */
export async function connectAtStartup(dependency: StartupDependency, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const address = `${dependency.setting} (${maskedUrl(dependency.url)})`;
  for (let pauseMs = FIRST_PAUSE_MS; ; pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS)) {
    try {
      await dependency.connect(Math.max(500, Math.min(MAX_TRY_MS, deadline - Date.now())));
      return;
    } catch (error) {
      if (dependency.isPermanent(error)) {
        throw new StartupConnectError(`${address} refused the connection: ${causeOf(error)}`, { cause: error });
      }
      if (Date.now() + pauseMs >= deadline) {
        throw new StartupConnectError(
          `${address} did not answer within ${Math.round(timeoutMs / 1000)} s (STARTUP_CONNECT_TIMEOUT_SECONDS): ` +
            causeOf(error),
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** Every dependency the settings name, connected to in parallel (see connectAtStartup). */
export async function connectToDependenciesAtStartup(settings: Settings): Promise<void> {
  const dependencies: StartupDependency[] = [];
  if (settings.POSTGRES_URL) {
    const { postgresStartupDependency } = await import('../postgres/postgres-startup-check.js');
    dependencies.push(postgresStartupDependency(settings.POSTGRES_URL));
  }
  if (settings.REDIS_URL) {
    const { redisStartupDependency } = await import('./redis-startup-check.js');
    dependencies.push(redisStartupDependency(settings.REDIS_URL));
  }
  const timeoutMs = settings.STARTUP_CONNECT_TIMEOUT_SECONDS * 1000;
  await Promise.all(dependencies.map((dependency) => connectAtStartup(dependency, timeoutMs)));
}
