import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@diyml/core/testing/free-port.js';

export const ROOT = join(import.meta.dirname, '..', '..');

const BUILD_DIR = join(ROOT, 'dist');

let built = false;

/** `npm run build` once per benchmark process (skipped with BENCH_SKIP_BUILD=1, as the harness builds first). */
export function buildProduct(): void {
  if (built || process.env.BENCH_SKIP_BUILD === '1') return;
  console.error('Building the product…');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  built = true;
}

export interface RunningProduct {
  base: string;
  dataDir: string;
  /** The api's process id. */
  pid: number;
  /** Resident memory of the api process in MiB. */
  rssMiB(): number;
  /**
   * CPU time (user and system, ms) the api process has used so far: what requests cost the api, which unlike their
   * latency hardly depends on what else the machine runs.
   */
  cpuMs(): number;
  /** Stops the api and deletes its data, unless it is the shared one (`startProduct`), which the harness stops. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** An api started for this caller alone. */
export interface OwnProduct extends RunningProduct {
  process: ChildProcess;
}

export interface ProductOptions {
  dataDir?: string;
  /** Settings (environment variables) of the api, over the embedded defaults. */
  env?: Record<string, string>;
  /** An api of its own even where a shared one is offered: for figures of the api process itself (its memory). */
  fresh?: boolean;
}

/** The environment variable through which `bench/run.ts --smoke` offers its shared api: `{ base, pid, dataDir }`. */
export const SHARED_API_VARIABLE = 'BENCH_SHARED_API';
/**
 * The settings of the shared api: those the benchmarks that share it ask for. A smoke run measures nothing, so
 * blobs are not fsynced, and predictions are not rate-limited (the prediction benchmark fires them by thousands).
 */
export const SHARED_API_ENV: Readonly<Record<string, string>> = {
  BLOB_FSYNC: 'false',
  PREDICT_RATE_LIMIT: '100000000',
};

/** The embedded mode: no external services, whatever the caller's environment names. */
const EMBEDDED_ENV: Readonly<Record<string, string>> = {
  LOG_LEVEL: 'error',
  MONGODB_URI: '',
  POSTGRES_URL: '',
  EVENTSTORE_CONNECTION_STRING: '',
  REDIS_URL: '',
};

/**
 * How the api is started (package.json's `start`, the Dockerfile): glibc maps buffers of 128 KiB and more and unmaps
 * them when freed, instead of raising that threshold after the first free (its default), which left the large
 * transient buffers of uploads, inflated archives and password hashes in the arenas of the threads that used them;
 * and V8's young generation keeps 2 MiB semi-spaces instead of growing them to tens of MiB, in the api and each of its
 * worker threads. Together: the api's RSS after the attacks of issue 17 ~350 MiB instead of ~500 (bench/abuse-replay).
 * V8 lets each heap grow to twice its live size before a full collection: the api allocates little on its heap but
 * megabytes outside it per photo, which V8 counts against a headroom it had sized at a few MB, so 12-MP predictions
 * ran a full collection every one to three requests (BENCHMARKS.md, 2026-12-03).
 */
const API_NODE_ARGS = ['--max-semi-space-size=2', '--heap-growing-percent=100'];
const API_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072' };

/** A process's resident memory, its high-water mark (MiB) and its thread count, from /proc/<pid>/status. */
export function processMemory(pid: number): { rssMiB: number; hwmMiB: number; threads: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: field('VmRSS') / 1024, hwmMiB: field('VmHWM') / 1024, threads: field('Threads') };
}

function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const clockTicksPerSecond = 100;
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
}

/**
 * The api the harness shares among the benchmarks of a smoke run, when it offers one and these options ask for
 * nothing it lacks (an own data directory, other settings): booting an api costs about 5 CPU-s.
 */
function sharedProduct(options: ProductOptions): RunningProduct | undefined {
  const offered = process.env[SHARED_API_VARIABLE];
  if (!offered || options.fresh || options.dataDir) return undefined;
  const sharedEnv: Record<string, string | undefined> = { ...process.env, ...EMBEDDED_ENV, ...SHARED_API_ENV };
  const differing = Object.entries(options.env ?? {}).filter(([name, value]) => sharedEnv[name] !== value);
  if (differing.length > 0) {
    console.error(`An api of its own, as the shared one differs in ${differing.map(([name]) => name).join(', ')}.`);
    return undefined;
  }
  const { base, pid, dataDir } = JSON.parse(offered) as { base: string; pid: number; dataDir: string };
  return {
    base,
    dataDir,
    pid,
    rssMiB: () => processMemory(pid).rssMiB,
    cpuMs: () => cpuMsOf(pid),
    stop: () => Promise.resolve(),
  };
}

/**
 * Starts the built api (embedded defaults) in its own process on a free port with a fresh data directory, or, in a
 * smoke run (bench/run.ts --smoke), answers the api the harness started once for all benchmarks that can share it
 * (each registers its own user and creates its own projects).
 * BENCH_NODE_ARGS adds node flags to the api process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"; BENCH_API_STDOUT=1
 * passes on the api's standard output, where V8's "--trace-gc" writes.
 */
export async function startProduct(options: ProductOptions & { fresh: true }): Promise<OwnProduct>;
export async function startProduct(options?: ProductOptions): Promise<RunningProduct>;
export async function startProduct(options: ProductOptions = {}): Promise<RunningProduct> {
  const shared = sharedProduct(options);
  if (shared) return shared;
  buildProduct();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'diyml-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...API_NODE_ARGS, ...nodeArgs, join(BUILD_DIR, 'apps/api/src/main.js')], {
    cwd: ROOT,
    env: { ...process.env, ...API_ENV, PORT: String(port), DATA_DIR: dataDir, ...EMBEDDED_ENV, ...options.env },
    stdio: ['ignore', process.env.BENCH_API_STDOUT ? 'inherit' : 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; ; attempt += 1) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 1200 || child.exitCode !== null) throw new Error('The api did not start.');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = child.pid!;
  const own: OwnProduct = {
    base,
    dataDir,
    pid,
    process: child,
    rssMiB: () => processMemory(pid).rssMiB,
    cpuMs: () => cpuMsOf(pid),
    async stop({ keepData = false } = {}) {
      child.kill('SIGTERM');
      await exited;
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return own;
}

/** A logged-in HTTP client of a running product. */
export class BenchClient {
  auth = '';

  constructor(readonly base: string) {}

  static async register(base: string): Promise<BenchClient> {
    const client = new BenchClient(base);
    // Unique among the benchmarks that share an api (bench/run.ts --smoke) and start in the same millisecond.
    const credentials = { username: `bench-${randomUUID().slice(0, 18)}`, password: 'benchmark-password' };
    await client.json('POST', '/v1/auth/register', credentials);
    const login = await client.json<{ accessToken: string }>('POST', '/v1/auth/login', credentials);
    client.auth = `Bearer ${login.accessToken}`;
    return client;
  }

  async json<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const send = () =>
      fetch(`${this.base}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.auth ? { authorization: this.auth } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    // A kept-alive connection the server closes as the request goes out is reset (seen under heavy load while
    // polling): a read is safe to send again.
    const response = await send().catch((error: unknown) => {
      if (method === 'GET' && (error as { cause?: { code?: string } }).cause?.code === 'ECONNRESET') return send();
      throw error;
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (response.status === 204 ? {} : await response.json()) as T;
  }

  /** Creates a classification project with these labels; returns its id. */
  async createProject(name: string, labels: readonly string[]): Promise<string> {
    const project = await this.json<{ id: string }>('POST', '/v1/projects', { name, type: 'classification' });
    for (const label of labels) await this.json('POST', `/v1/projects/${project.id}/labels`, { name: label });
    return project.id;
  }

  /** Uploads PNGs in one multipart request; returns the per-file results. */
  async upload(projectId: string, files: { name: string; bytes: Uint8Array }[], fields: Record<string, string> = {}) {
    const form = new FormData();
    for (const file of files) form.append('images', new Blob([file.bytes], { type: 'image/png' }), file.name);
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    const response = await fetch(`${this.base}/v1/projects/${projectId}/images`, {
      method: 'POST',
      headers: { authorization: this.auth },
      body: form,
    });
    if (response.status !== 201 && response.status !== 207)
      throw new Error(`upload: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { items: { id?: string; status: string; filename: string }[] }).items;
  }
}

/** Reads until `done` holds, running `onTick` (default: a 500 ms pause) between reads. */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  onTick?: () => Promise<void>,
): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (onTick) await onTick();
    else await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
