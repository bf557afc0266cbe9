/**
 * What reading a long iteration costs the api (issue 17: 900 GETs of a 500-epoch iteration at once held /health for
 * 20 s). The built api (embedded mode) trains a 500-epoch iteration of 16-pixel squares, then:
 * 1. the api's CPU-ms per GET /v1/projects/{id}/iterations/{iterationId}, sequential on one kept-alive connection,
 *    as a browser asks (Accept-Encoding: gzip, deflate, br), as curl asks (no Accept-Encoding), and with the ETag of
 *    the last answer in If-None-Match (what a browser's cache sends when it polls);
 * 2. 900 such GETs at once, each on a connection of its own, while a probe on its own connection asks for /health
 *    every 50 ms: how long they all take and the slowest /health.
 *
 * Run: npx tsx bench/iteration-read-cost.ts [requests=300]   (by hand; BENCH_SKIP_BUILD=1 after `npx nest build api`)
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { BLUE, colouredSquares, RED } from '../test/support/generated-images.js';
import { BenchClient, startProduct, until } from './support/product.js';
import { percentile } from './support/result.js';

const requests = Number(process.argv[2] ?? 300);
const AT_ONCE = 900;
const EPOCHS = 500;
const BROWSER_ENCODINGS = 'gzip, deflate, br';

interface Answer {
  status: number;
  etag?: string;
  bytes: number;
  ms: number;
}

function get(url: string, agent: Agent | false, headers: Record<string, string>): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { agent, headers }, (response) => {
      response.on('error', reject);
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          etag: response.headers.etag,
          bytes,
          ms: performance.now() - started,
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

const product = await startProduct();
try {
  const client = await BenchClient.register(product.base);
  const projectId = await client.createProject('long iteration', ['red', 'blue']);
  const squares = async (colour: typeof RED, seed: number) =>
    (await colouredSquares(colour, 8, seed)).map((bytes, i) => ({ name: `${seed}-${i}.png`, bytes }));
  await client.upload(projectId, await squares(RED, 1), { label: 'red' });
  await client.upload(projectId, await squares(BLUE, 2), { label: 'blue' });
  const queued = await client.json<{ id: string }>('POST', `/v1/projects/${projectId}/iterations`, {
    trainingConfig: {
      imageSize: 16,
      epochs: EPOCHS,
      batchSize: 8,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
      earlyStopping: null,
    },
  });
  const path = `/v1/projects/${projectId}/iterations/${queued.id}`;
  const iteration = await until(
    () => client.json<{ status: string; history: unknown[] }>('GET', path),
    (read) => ['completed', 'failed', 'cancelled'].includes(read.status),
  );
  const url = `${product.base}${path}`;
  const authorization = client.auth;
  console.log(
    `iteration ${iteration.status}, ${iteration.history.length} epochs; load ${loadavg()[0].toFixed(1)}, ` +
      `api RSS ${product.rssMiB().toFixed(0)} MiB`,
  );

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const etag = (await get(url, agent, { authorization })).etag ?? '';
  const ways: Record<string, Record<string, string>> = {
    'as a browser asks': { authorization, 'accept-encoding': BROWSER_ENCODINGS },
    'as curl asks': { authorization },
    'with If-None-Match': { authorization, 'accept-encoding': BROWSER_ENCODINGS, 'if-none-match': etag },
  };
  for (const [way, headers] of Object.entries(ways)) {
    await get(url, agent, headers);
    const cpuBefore = product.cpuMs();
    let last: Answer | undefined;
    for (let i = 0; i < requests; i++) last = await get(url, agent, headers);
    console.log(
      `GET ${way}: ${((product.cpuMs() - cpuBefore) / requests).toFixed(2)} api CPU-ms a request ` +
        `(${last?.status}, ${last?.bytes} bytes on the wire; load ${loadavg()[0].toFixed(1)})`,
    );
  }
  agent.destroy();

  for (const [way, headers] of Object.entries(ways)) {
    if (way === 'as curl asks') continue;
    const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const health: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const probeStarted = performance.now();
        // A reset probe counts for the time it waited.
        health.push(
          await get(`${product.base}/health`, probeAgent, {}).then(
            (answer) => answer.ms,
            () => performance.now() - probeStarted,
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const cpuBefore = product.cpuMs();
    const started = performance.now();
    // A connection the api resets (its accept queue full) counts as status 0.
    const answers = await Promise.all(
      Array.from({ length: AT_ONCE }, () =>
        get(url, false, headers).catch((): Answer => ({ status: 0, bytes: 0, ms: performance.now() - started })),
      ),
    );
    const wallMs = performance.now() - started;
    probing = false;
    await probe;
    probeAgent.destroy();
    const counts = new Map<number, number>();
    for (const answer of answers) counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
    const statuses = [...counts].map(([status, count]) => `${count}× ${status || 'reset'}`).join(', ');
    health.sort((a, b) => a - b);
    console.log(
      `${AT_ONCE} GETs at once ${way}: all answered in ${(wallMs / 1000).toFixed(1)} s (${statuses}), ` +
        `${((product.cpuMs() - cpuBefore) / AT_ONCE).toFixed(2)} api CPU-ms each; /health max ` +
        `${health.at(-1)?.toFixed(0)} ms, p50 ${percentile(health, 50).toFixed(0)} ms over ${health.length} probes; ` +
        `api RSS ${product.rssMiB().toFixed(0)} MiB, load ${loadavg()[0].toFixed(1)}`,
    );
  }
} finally {
  await product.stop();
}
