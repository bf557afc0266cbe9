/**
 * The front door under load (issue 17): the built api (embedded mode) in its own process, autocannon opening
 * 500 connections at once and keeping them busy, first on GET /health, then on a path no route serves (an
 * anonymous scan: 404s) while a probe on its own connection asks for /health every 50 ms. What each request
 * costs the api decides how long /health waits behind the others. The server, autocannon and the probe share
 * the same cores, as they do on a single machine.
 *
 * Run: npx tsx bench/front-door-under-load.ts [--quick | --smoke] [--connections 500] [--duration 10]
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { startProduct } from './support/product.js';
import {
  describeLoadLength,
  emitResult,
  loadAverages,
  loadLength,
  numberOption,
  percentile,
  sized,
} from './support/result.js';

const CONNECTIONS = numberOption('connections', 500);
const DURATION = numberOption('duration', sized({ full: 10, quick: 3, smoke: 1 }));
/** Each load's length: DURATION seconds, a few requests per connection in a smoke run. */
const LENGTH = loadLength(DURATION, CONNECTIONS);
const PROBE_EVERY_MS = 50;

/**
 * CPU time (user and system, ms) the api process has used so far: what a request costs the api, unlike its
 * latency, hardly depends on what else the machine runs (the latencies here do, a lot).
 */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const clockTicksPerSecond = 100;
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
}

/** Latency of one GET on a kept-alive connection of its own, in ms. */
function timedGet(url: string, agent: Agent): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(performance.now() - started));
    })
      .on('error', reject)
      .end();
  });
}

/** Asks for /health every PROBE_EVERY_MS until stopped; the latencies it saw, sorted. */
function probeHealth(base: string): () => Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let stop = false;
  const running = (async () => {
    while (!stop) {
      latencies.push(await timedGet(`${base}/health`, agent));
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  })();
  return async () => {
    stop = true;
    await running;
    agent.destroy();
    return latencies.sort((a, b) => a - b);
  };
}

const product = await startProduct();
try {
  await autocannon({
    url: `${product.base}/health`,
    connections: 20,
    ...loadLength(1, 20),
  });
  const figures: Parameters<typeof emitResult>[1] = {};
  const notes: string[] = [
    `${CONNECTIONS} connections opened at once, ${describeLoadLength(LENGTH)} each, after a warm-up at 20 connections ${describeLoadLength(loadLength(1, 20))}`,
  ];

  const pid = product.pid;
  let loadBefore = loadavg();
  let cpuBefore = cpuMs(pid);
  const health = await autocannon({
    url: `${product.base}/health`,
    connections: CONNECTIONS,
    ...LENGTH,
  });
  Object.assign(figures, {
    'GET /health api CPU per request': {
      value: (cpuMs(pid) - cpuBefore) / health.requests.total,
      unit: 'ms',
      better: 'lower',
    },
    'GET /health throughput': { value: health.requests.average, unit: 'requests/s', better: 'higher' },
    'GET /health latency p50': { value: health.latency.p50, unit: 'ms', better: 'lower' },
    'GET /health latency p99': { value: health.latency.p99, unit: 'ms', better: 'lower', goal: 1000 },
    'GET /health latency max': { value: health.latency.max, unit: 'ms', better: 'lower' },
    'GET /health failed requests': {
      value: health.errors + health.timeouts + health.non2xx,
      unit: 'requests',
      better: 'lower',
    },
  });
  notes.push(
    `GET /health: ${health.requests.total} requests; load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
  );

  loadBefore = loadavg();
  cpuBefore = cpuMs(pid);
  const stopProbe = probeHealth(product.base);
  const unknown = await autocannon({
    url: `${product.base}/v1/no-such-route`,
    connections: CONNECTIONS,
    ...LENGTH,
  });
  const unknownCpuMs = cpuMs(pid) - cpuBefore;
  const probed = await stopProbe();
  const notFound = unknown.non2xx;
  Object.assign(figures, {
    'GET unknown path api CPU per request': {
      value: unknownCpuMs / (unknown.requests.total + probed.length),
      unit: 'ms',
      better: 'lower',
    },
    'GET unknown path throughput': { value: unknown.requests.average, unit: 'requests/s', better: 'higher' },
    'GET unknown path latency p99': { value: unknown.latency.p99, unit: 'ms', better: 'lower' },
    '/health probe meanwhile p99': { value: percentile(probed, 99), unit: 'ms', better: 'lower', goal: 1000 },
    '/health probe meanwhile max': { value: probed.at(-1) ?? Number.NaN, unit: 'ms', better: 'lower' },
  });
  notes.push(
    `GET /v1/no-such-route: ${unknown.requests.total} requests (${notFound} answered non-2xx, as they should: 404), ${probed.length} /health probes; load average before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
  );
  emitResult('front-door-under-load', figures, notes);
} finally {
  await product.stop();
}
