import { appendFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { basename, join } from 'node:path';
import { TestEnvironment } from 'jest-environment-node';

/**
 * Values that are the same for every test file, kept for the life of a Jest worker (this module is loaded once per
 * worker; each test file gets a fresh global): see `openApiDocumentOf` in test-app.ts.
 */
const workerCache = new Map();

/** What the worker holds before its first test file (Jest's own pipes): see `logResourcesLeft`. */
const resourcesAtWorkerStart = countByType(process.getActiveResourcesInfo());

/**
 * Jest's Node environment, with Node's own typed-array constructors inside the test context (Jest already does this
 * for ArrayBuffer and Uint8Array). Native add-ons such as onnxruntime-node create their results in Node's context,
 * and onnxruntime's `instanceof Float32Array` checks would otherwise fail inside a test.
 */
export default class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'Int8Array',
      'Uint8ClampedArray',
      'Int16Array',
      'Uint16Array',
      'Int32Array',
      'Uint32Array',
      'Float32Array',
      'Float64Array',
      'BigInt64Array',
      'BigUint64Array',
    ]) {
      this.global[name] = globalThis[name];
    }
    this.global.diymlWorkerCache = workerCache;
    this.testPath = context.testPath;
    this.cpuAtStart = process.cpuUsage();
    this.startedAt = performance.now();
    this.startedAtDate = new Date();
  }

  /**
   * With DIYML_TEST_CPU_PROFILE set to a folder, writes a V8 CPU profile of each test file's worker thread there
   * (<file>.<pid>.cpuprofile, for Chrome DevTools or speedscope): where a file's CPU goes, its module loading
   * included. `node --cpu-prof` cannot do this for Jest: its workers are stopped without writing theirs.
   */
  async setup() {
    await super.setup();
    if (!process.env.DIYML_TEST_CPU_PROFILE) return;
    this.profiler = new Session();
    this.profiler.connect();
    await this.profiler.post('Profiler.enable');
    await this.profiler.post('Profiler.start');
  }

  /**
   * With DIYML_TEST_CPU_LOG set to a file, appends a line per test file: its path, wall and CPU seconds of the worker
   * process from the file's environment setup to its teardown (module loading, boots and threads included; child
   * processes such as a browser not), then the time it started and the worker's pid, which show the run's schedule
   * (which file each worker ran when). Jest's own timings are wall only and miss the file's loading.
   */
  async teardown() {
    await super.teardown();
    if (this.profiler) {
      const { profile } = await this.profiler.post('Profiler.stop');
      this.profiler.disconnect();
      const name = `${basename(this.testPath)}.${process.pid}.cpuprofile`;
      writeFileSync(join(process.env.DIYML_TEST_CPU_PROFILE, name), JSON.stringify(profile));
    }
    await this.logResourcesLeft();
    const log = process.env.DIYML_TEST_CPU_LOG;
    if (!log) return;
    const cpu = process.cpuUsage(this.cpuAtStart);
    const seconds = (microseconds) => (microseconds / 1e6).toFixed(2);
    const wall = ((performance.now() - this.startedAt) / 1000).toFixed(2);
    const started = this.startedAtDate.toISOString();
    appendFileSync(log, `${this.testPath}\t${wall}\t${seconds(cpu.user + cpu.system)}\t${started}\t${process.pid}\n`);
  }

  /**
   * With DIYML_TEST_HANDLES_LOG set to a file, appends a line per test file after which (a second after its teardown)
   * the worker holds more active resources (`process.getActiveResourcesInfo()`: timers, sockets, servers, child
   * processes) than when it started its first file: its path, what it holds more, the worker's pid. The last line of
   * a pid is what kept that worker from exiting ("A worker process has failed to exit gracefully", which names no
   * file; `--detectOpenHandles` runs in band, one file at a time); the first line naming a resource, the file that left it.
   */
  async logResourcesLeft() {
    const log = process.env.DIYML_TEST_HANDLES_LOG;
    if (!log) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = countByType(process.getActiveResourcesInfo());
    const grown = [...now]
      .map(([type, count]) => [type, count - (resourcesAtWorkerStart.get(type) ?? 0)])
      .filter(([, more]) => more > 0);
    if (grown.length > 0)
      appendFileSync(
        log,
        `${this.testPath}\t${grown.map(([type, more]) => `${type} +${more}`).join(', ')}\t${process.pid}\n`,
      );
  }
}

/** `['Timeout', 'Timeout', 'TCPServerWrap']` → Map { Timeout → 2, TCPServerWrap → 1 }. */
function countByType(resources) {
  const counts = new Map();
  for (const type of resources) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}
