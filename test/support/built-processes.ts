import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '@diyml/core/testing/free-port.js';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const BUILT_API = join(ROOT, 'dist/apps/api/src/main.js');
export const BUILT_WORKER = join(ROOT, 'dist/apps/worker/src/main.js');
export const appsAreBuilt = existsSync(BUILT_API) && existsSync(BUILT_WORKER);

/**
 * For specs of built apis and workers on PostgreSQL and Redis: the server to make databases on, and why the spec is
 * skipped here ('' when it runs). REQUIRE_POSTGRES=1 (CI) makes a missing POSTGRES_URL an error, not a skip.
 */
export async function builtOnPostgresAndRedis(): Promise<{ postgresServer: string | undefined; skipped: string }> {
  const postgresServer = process.env.POSTGRES_URL || undefined;
  if (!postgresServer && process.env.REQUIRE_POSTGRES === '1') {
    throw new Error('REQUIRE_POSTGRES=1 but POSTGRES_URL is not set: point it at a PostgreSQL server.');
  }
  const skipped = !postgresServer
    ? ' (skipped: POSTGRES_URL is not set)'
    : !appsAreBuilt
      ? ' (skipped: run `npx nest build api` first)'
      : !(await redisIsReachable())
        ? ` (skipped: no Redis at ${TEST_REDIS_URL})`
        : '';
  return { postgresServer, skipped };
}

export interface BuiltProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const STOP_GRACE_MS = 60_000;

/** Runs a built app (`npx nest build api` builds both) with `env` over the test's environment. */
export function spawnBuilt(entry: string, env: Record<string, string>): BuiltProcess {
  let output = '';
  let stderr = '';
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { ...process.env, EVENTSTORE_CONNECTION_STRING: '', MONGODB_URI: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    stderr: () => stderr,
    exited,
    /**
     * SIGTERM, then SIGKILL if the process has not exited 60 s later, saying so with the end of its output: a test's
     * clean-up must end, and a shutdown that hangs must show in the test's log.
     */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
      if (stopped) return;
      console.warn(
        `${entry} did not exit ${STOP_GRACE_MS} ms after SIGTERM; killed. Its last output:\n${output.slice(-4000)}`,
      );
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A built api on a free port, once its /health answered (any status: it listens). */
export async function startBuiltApi(env: Record<string, string>): Promise<BuiltProcess & { url: string }> {
  const port = await freePort();
  const api = spawnBuilt(BUILT_API, { ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 1800; attempt += 1) {
    if (api.child.exitCode !== null) throw new Error(`the api exited:\n${api.output()}`);
    try {
      await fetch(`${url}/health`);
      return { ...api, url };
    } catch {
      await sleep(100); // not listening yet
    }
  }
  throw new Error(`the api did not answer /health:\n${api.output()}`);
}

/** A built worker, once it says it waits for jobs. */
export async function startBuiltWorker(env: Record<string, string>): Promise<BuiltProcess> {
  const worker = spawnBuilt(BUILT_WORKER, env);
  for (let attempt = 0; attempt < 1800 && !worker.output().includes('waiting for jobs'); attempt += 1) {
    if (worker.child.exitCode !== null) throw new Error(`the worker exited:\n${worker.output()}`);
    await sleep(100);
  }
  return worker;
}

/** A fresh database on the PostgreSQL server at `serverUrl`, dropped by `drop()`. */
export async function createTestDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `diyml_test_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
