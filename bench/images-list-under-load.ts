/**
 * The images list under load: the built api (embedded mode) in its own process holds a project of generated
 * PNGs, labelled half `cat`, half `dog`; autocannon sends GET /v1/projects/{id}/images (the first page, as the
 * console does) on 200 connections while a client keeps uploading batches of new images into the same project.
 * A second run filters by label and split (`?label=cat&split=train`). The server, the uploader and autocannon
 * share the same cores, as they do on a single machine. As latencies here follow the machine's load more than the
 * api, each query is also run without the upload, for the api's CPU time per request (from /proc). The api's event-loop
 * delay during each run under upload (bench/support/event-loop-monitor.ts) shows how long a ready request waited
 * behind synchronous work in the api itself.
 *
 * Run: npx tsx bench/images-list-under-load.ts [--quick | --smoke] [--images 2000] [--connections 200] [--duration 20]
 */
import autocannon from 'autocannon';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { BenchClient, startProduct } from './support/product.js';
import type { EventLoopDelay } from './support/event-loop-monitor.js';
import { describeLoadLength, emitResult, loadAverages, loadLength, numberOption, sized } from './support/result.js';

const IMAGES = numberOption('images', sized({ full: 2000, quick: 400, smoke: 20 }));
const CONNECTIONS = numberOption('connections', 200);
const DURATION = numberOption('duration', sized({ full: 20, quick: 3, smoke: 1 }));
const WARM_UP = sized({ full: 3, quick: 1, smoke: 1 });
const BATCH = 50;
const QUIET_CONNECTIONS = 20;
// A count, not a duration: at high load a 1-s window could end before a request was answered.
const QUIET_REQUESTS = sized({ full: 20_000, quick: 2_000, smoke: 40 });

console.error(`Generating ${IMAGES} PNGs, and more for the upload that runs meanwhile…`);
const stored = await Promise.all(Array.from({ length: IMAGES }, (_, i) => generateImage(200_000 + i)));
const INCOMING = sized({ full: 2000, quick: 300, smoke: 10 });
// New images for each run's upload: images sent again are only reported as duplicates, and not counted.
const incomingByRun = await Promise.all(
  [400_000, 600_000].map((seed) => Promise.all(Array.from({ length: INCOMING }, (_, i) => generateImage(seed + i)))),
);

const monitorDir = mkdtempSync(join(tmpdir(), 'diyml-event-loop-'));
const delayFile = join(monitorDir, 'delay.json');
const product = await startProduct({
  fresh: true,
  env: {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${join(import.meta.dirname, 'support', 'event-loop-monitor.ts')}`,
    EVENT_LOOP_DELAY_FILE: delayFile,
  },
});

/** The api's event-loop delay since the previous call (the first call only starts the count). */
async function eventLoopDelay(): Promise<EventLoopDelay> {
  rmSync(delayFile, { force: true });
  product.process.kill('SIGWINCH');
  while (!existsSync(delayFile)) {
    const { exitCode, signalCode } = product.process;
    if (exitCode !== null || signalCode !== null) throw new Error(`The api exited (${exitCode ?? signalCode}).`);
    await sleep(20);
  }
  return JSON.parse(readFileSync(delayFile, 'utf8')) as EventLoopDelay;
}

try {
  const client = await BenchClient.register(product.base);
  const projectId = await client.createProject('images list under load', ['cat', 'dog']);
  for (let start = 0; start < stored.length; start += 100) {
    const files = stored.slice(start, start + 100).map((bytes, i) => ({ name: `stored-${start + i}.png`, bytes }));
    await client.upload(projectId, files, { label: (start / 100) % 2 === 0 ? 'cat' : 'dog' });
  }

  /** Uploads batches of new images until stopped; the number of images it added. */
  const uploadMeanwhile = (incoming: Buffer[]) => {
    let stop = false;
    let next = 0;
    let uploaded = 0;
    const running = (async () => {
      while (!stop && next < incoming.length) {
        const files = incoming
          .slice(next, next + BATCH)
          .map((bytes, i) => ({ name: `incoming-${next + i}.png`, bytes }));
        next += BATCH;
        // A kept-alive connection the server closed meanwhile fails once; the batch is sent again (a repeat
        // would only report duplicates).
        const items = await client
          .upload(projectId, files, { label: 'cat' })
          .catch(() => client.upload(projectId, files, { label: 'cat' }));
        uploaded += items.filter((item) => item.status === 'created').length;
      }
    })();
    // Kept from being an unhandled rejection until stopped, where it is thrown.
    running.catch(() => undefined);
    return async () => {
      stop = true;
      await running;
      return uploaded;
    };
  };

  const headers = { authorization: client.auth };
  const list = (query: string, connections: number, length: { duration: number } | { amount: number }) =>
    autocannon({
      url: `${product.base}/v1/projects/${projectId}/images${query}`,
      headers,
      connections,
      ...length,
    });
  await list('', 20, loadLength(WARM_UP, 20));

  const figures: Parameters<typeof emitResult>[1] = {};
  const notes: string[] = [
    `${IMAGES} images in the project at the start; page of 50 (the default); after a warm-up at 20 connections ${describeLoadLength(loadLength(WARM_UP, 20))}`,
  ];
  for (const [run, [query, suffix]] of (
    [
      ['', ''],
      ['?label=cat&split=train', ' (label and split filter)'],
    ] as const
  ).entries()) {
    const loadBefore = loadavg();
    await eventLoopDelay();
    const stopUploading = uploadMeanwhile(incomingByRun[run]);
    const started = performance.now();
    const result = await list(query, CONNECTIONS, loadLength(DURATION, CONNECTIONS));
    const seconds = (performance.now() - started) / 1000;
    const delay = await eventLoopDelay();
    const uploaded = await stopUploading();
    if (result.requests.total === 0) throw new Error('autocannon sent no request');
    Object.assign(figures, {
      [`throughput${suffix}`]: { value: result.requests.average, unit: 'requests/s', better: 'higher', goal: 1000 },
      [`latency p50${suffix}`]: { value: result.latency.p50, unit: 'ms', better: 'lower' },
      [`latency p99${suffix}`]: { value: result.latency.p99, unit: 'ms', better: 'lower', goal: 100 },
      [`latency max${suffix}`]: { value: result.latency.max, unit: 'ms', better: 'lower' },
      [`failed requests${suffix}`]: {
        value: result.errors + result.timeouts + result.non2xx,
        unit: 'requests',
        better: 'lower',
      },
      [`images uploaded meanwhile${suffix}`]: { value: uploaded / seconds, unit: 'images/s', better: 'higher' },
      [`api event-loop delay p99${suffix}`]: { value: delay.p99, unit: 'ms', better: 'lower' },
      [`api event-loop delay max${suffix}`]: { value: delay.max, unit: 'ms', better: 'lower' },
    });
    notes.push(
      `GET …/images${query}: ${CONNECTIONS} connections ${describeLoadLength(loadLength(DURATION, CONNECTIONS))}, ${result.requests.total} requests, ${uploaded} images uploaded meanwhile; load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
    );
  }
  for (const [query, suffix] of [
    ['', ''],
    ['?label=cat&split=train', ' (label and split filter)'],
  ] as const) {
    const cpuBefore = product.cpuMs();
    const result = await list(query, QUIET_CONNECTIONS, { amount: QUIET_REQUESTS });
    Object.assign(figures, {
      [`api CPU per request, no upload${suffix}`]: {
        value: (product.cpuMs() - cpuBefore) / result.requests.total,
        unit: 'ms',
        better: 'lower',
      },
    });
    notes.push(
      `GET …/images${query} without the upload: ${QUIET_CONNECTIONS} connections, ${result.requests.total} requests (${result.requests.average} requests/s), for the CPU per request`,
    );
  }
  emitResult('images-list-under-load', figures, notes);
} finally {
  await product.stop();
  rmSync(monitorDir, { recursive: true, force: true });
}
