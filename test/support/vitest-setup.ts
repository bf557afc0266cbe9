import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

/**
 * Runs before every test file (vitest.config.ts `setupFiles`). A worker runs many files one after another in one
 * process, so what a file changes in the process must not reach the next one:
 * - the environment: the settings a test app validates are written into process.env by Nest's ConfigModule, and a
 *   child process a later file starts (a tsx worker) would inherit them;
 * - apps a file booted and did not close (a boot that outlived its hook), which would keep serving and ticking.
 */

declare global {
  /** The worker's environment before its first file. */
  var diymlWorkerEnv: NodeJS.ProcessEnv | undefined;
  /** What the worker held before its first file (its own pipes): see logResourcesLeft. */
  var diymlWorkerResources: Map<string, number> | undefined;
}
const workerEnv = (globalThis.diymlWorkerEnv ??= { ...process.env });
const workerResources = (globalThis.diymlWorkerResources ??= countByType(process.getActiveResourcesInfo()));

function restoreEnvironment(): void {
  for (const name of Object.keys(process.env)) if (!(name in workerEnv)) delete process.env[name];
  Object.assign(process.env, workerEnv);
}

/**
 * CPU seconds of the child processes this worker has started and that have ended (their own children included when
 * they waited for them): an api, a worker, a benchmark, a browser. Linux only (/proc/self/stat cutime and cstime), 0
 * elsewhere; a child still running is not counted yet.
 */
function endedChildrenCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}
/** USER_HZ, 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

let cpuAtStart = process.cpuUsage();
let childrenCpuAtStart = endedChildrenCpuSeconds();
let startedAt = performance.now();
let startedAtDate = new Date();
let profiler: Session | undefined;

beforeAll(async () => {
  cpuAtStart = process.cpuUsage();
  childrenCpuAtStart = endedChildrenCpuSeconds();
  startedAt = performance.now();
  startedAtDate = new Date();
  restoreEnvironment();
  if (!process.env.DIYML_TEST_CPU_PROFILE) return;
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
});

afterAll(async () => {
  await Promise.all([...(globalThis.diymlOpenApps ?? [])].map(async (open) => (await open)?.close()));
  globalThis.diymlOpenApps?.clear();
  restoreEnvironment();
  const testPath = expect.getState().testPath ?? 'unknown';
  await writeCpuProfile(testPath);
  await logResourcesLeft(testPath);
  logCpu(testPath);
}, 120_000);

/**
 * With DIYML_TEST_CPU_PROFILE set to a folder, writes a V8 CPU profile of each test file there
 * (<file>.<pid>.cpuprofile, for Chrome DevTools or speedscope): where a file's CPU goes, its module loading included.
 */
async function writeCpuProfile(testPath: string): Promise<void> {
  if (!profiler) return;
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  const folder = process.env.DIYML_TEST_CPU_PROFILE ?? '.';
  writeFileSync(join(folder, `${basename(testPath)}.${process.pid}.cpuprofile`), JSON.stringify(profile));
}

/**
 * With DIYML_TEST_CPU_LOG set to a file, appends a line per test file: its path, wall and CPU seconds of the worker
 * process for the file (module loading, boots and threads included), CPU seconds of the child processes the file
 * started (an api, a benchmark run, a browser: see endedChildrenCpuSeconds), then the time it started and the
 * worker's pid, which show the run's schedule.
 */
function logCpu(testPath: string): void {
  const log = process.env.DIYML_TEST_CPU_LOG;
  if (!log) return;
  const cpu = process.cpuUsage(cpuAtStart);
  const seconds = (microseconds: number) => (microseconds / 1e6).toFixed(2);
  const wall = ((performance.now() - startedAt) / 1000).toFixed(2);
  appendFileSync(
    log,
    `${testPath}\t${wall}\t${seconds(cpu.user + cpu.system)}\t${(endedChildrenCpuSeconds() - childrenCpuAtStart).toFixed(2)}\t${startedAtDate.toISOString()}\t${process.pid}\n`,
  );
}

/**
 * With DIYML_TEST_HANDLES_LOG set to a file, appends a line per test file after which (a second after its end) the
 * worker holds more active resources (timers, sockets, servers, child processes) than before its first file: its
 * path, what it holds more, the worker's pid. The first line naming a resource names the file that left it.
 */
async function logResourcesLeft(testPath: string): Promise<void> {
  const log = process.env.DIYML_TEST_HANDLES_LOG;
  if (!log) return;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const grown = [...countByType(process.getActiveResourcesInfo())]
    .map(([type, count]) => [type, count - (workerResources.get(type) ?? 0)] as const)
    .filter(([, more]) => more > 0);
  if (grown.length > 0)
    appendFileSync(log, `${testPath}\t${grown.map(([type, more]) => `${type} +${more}`).join(', ')}\t${process.pid}\n`);
}

/** `['Timeout', 'Timeout', 'TCPServerWrap']` → Map { Timeout → 2, TCPServerWrap → 1 }. */
function countByType(resources: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of resources) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}
