import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import type { TestApp } from './test-app.js';
import { listenWithAcceptors } from '../../apps/api/src/listen.js';

export interface AttackReport<T> {
  result: T;
  /** The slowest GET /health answer while the attack ran (ms), measured by a separate process. */
  slowestHealthMs: number;
  healthProbes: number;
  /** /health answers other than 200 (at most five). */
  healthFailures: string[];
  /** Highest resident memory of the process during the attack, above what it was before (bytes). */
  rssGrowthBytes: number;
  /**
   * The machine's load per core: the highest of its 1-minute load average at the start and end of the attack and
   * of the mean number of runnable threads while it ran (the 1-minute average lags behind a burst of other work).
   */
  loadPerCore: number;
}

interface ProbeReport {
  slowestMs: number;
  probes: number;
  failures: string[];
}

/** The app's address, listening on a free loopback port as the api does (its accepting sockets too) if it was not yet. */
export async function baseUrlOf(testApp: TestApp): Promise<string> {
  const server = testApp.app.getHttpServer();
  if (!server.listening) await listenWithAcceptors(server, { port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Runs an attack while a child process asks GET /health every 50 ms (health-probe-child.mjs) and this process
 * samples its own RSS (the api runs here): the api must keep answering, and its memory must stay bounded. The
 * probe lives in its own process so that its timers and clock are not the api's: a probe in the api's process
 * waits out a freeze on a timer and then sees a quick answer. A liveness check with generous bounds, not a speed
 * measurement.
 */
export async function underAttack<T>(target: TestApp | string, attack: () => Promise<T>): Promise<AttackReport<T>> {
  const url = `${typeof target === 'string' ? target : await baseUrlOf(target)}/health`;
  const child = fork(new URL('./health-probe-child.mjs', import.meta.url), [url], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = (code: number | null) => new Error(`The /health probe exited (${code}) before reporting`);
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('close', (code) => reject(exited(code)));
  });
  const report = new Promise<ProbeReport>((resolve, reject) => {
    child.on('message', (message: { ready?: boolean } & ProbeReport) => {
      if (!message.ready) resolve(message);
    });
    // 'close', not 'exit': the report may still be in the IPC channel when the child has exited.
    child.once('close', (code) => reject(exited(code)));
  });
  // Awaited below; a probe that dies before it is ready fails the `ready` wait first.
  report.catch(() => undefined);
  await ready;
  const loadPerCore = () => loadavg()[0] / availableParallelism();
  const loadBefore = loadPerCore();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const runnable: number[] = [];
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
    const running = runnableThreads();
    if (running !== undefined) runnable.push(running);
  }, 20);
  let result: T;
  try {
    result = await attack();
  } finally {
    clearInterval(sampler);
    child.send('stop');
  }
  const probe = await report;
  return {
    result,
    slowestHealthMs: probe.slowestMs,
    healthProbes: probe.probes,
    healthFailures: probe.failures,
    rssGrowthBytes: peak - baseline,
    loadPerCore: Math.max(
      loadBefore,
      loadPerCore(),
      runnable.length ? runnable.reduce((sum, count) => sum + count, 0) / runnable.length / availableParallelism() : 0,
    ),
  };
}

/** Threads runnable on the machine right now, from Linux's /proc/loadavg (undefined elsewhere). */
function runnableThreads(): number | undefined {
  try {
    const running = Number(/ (\d+)\/\d+ /.exec(readFileSync('/proc/loadavg', 'utf8'))?.[1]);
    return Number.isFinite(running) ? running : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Fails naming every figure when a /health answer failed or took `healthBoundMs` or longer, scaled by the machine's
 * load per core (an api given a tenth of a core answers ten times later without being any less live), or when RSS
 * grew `rssBoundBytes` or more.
 */
export function expectStayedLive(report: AttackReport<unknown>, healthBoundMs: number, rssBoundBytes: number): void {
  const boundMs = healthBoundMs * Math.max(1, report.loadPerCore);
  const figures =
    `slowest /health ${Math.round(report.slowestHealthMs)} ms over ${report.healthProbes} probes` +
    `${report.healthFailures.length ? ` (failed: ${report.healthFailures.join(', ')})` : ''}, RSS +${Math.round(report.rssGrowthBytes / 1024 / 1024)} MiB`;
  if (
    report.healthProbes === 0 ||
    report.healthFailures.length ||
    report.slowestHealthMs >= boundMs ||
    report.rssGrowthBytes >= rssBoundBytes
  ) {
    throw new Error(
      `The api did not stay live under attack (bounds ${Math.round(boundMs)} ms at load ${report.loadPerCore.toFixed(1)} per core, ` +
        `${Math.round(rssBoundBytes / 1024 / 1024)} MiB): ${figures}`,
    );
  }
}
