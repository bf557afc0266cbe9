/**
 * Prediction latency and throughput of a deployed model, measured with autocannon against the built api.
 *
 *   npm run build && npx tsx bench/prediction-latency.ts [--connections 8] [--duration 20] [--no-write]
 *
 * Starts `node dist/apps/api/src/main.js` on a fresh DATA_DIR, and as a client would: registers, creates a
 * 10-class project of 28×28 grayscale images (the shape of Fashion-MNIST; no data set is downloaded, the
 * images are generated), trains the default small-cnn, deploys it, and fires single-image predictions
 * (raw image/png bodies) at POST /v1/predict/{id}. Prints p50/p99 latency and requests per second and writes
 * them to BENCHMARKS.md. The rate limit is raised for the run so that it measures the model, not the limiter.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const CONNECTIONS = option('connections', 8);
const DURATION = option('duration', 20);
const PORT = option('port', 3917);
const WRITE = !args.includes('--no-write');
const BASE = `http://127.0.0.1:${PORT}`;
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** A 28×28 grayscale picture per class: a bright bar at a class-specific place and angle, with noise. */
async function image(classIndex: number, seed: number): Promise<Buffer> {
  let state = (seed * 2654435761 + classIndex * 97) >>> 0;
  const random = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const pixels = Buffer.alloc(28 * 28);
  const vertical = classIndex % 2 === 0;
  const position = 3 + Math.floor(classIndex / 2) * 5;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const along = vertical ? x : y;
      const on = Math.abs(along - position) <= 1;
      pixels[y * 28 + x] = Math.max(0, Math.min(255, (on ? 220 : 25) + Math.round((random() - 0.5) * 40)));
    }
  }
  return sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
}

async function call(method: string, path: string, options: { auth?: string; json?: unknown; form?: FormData } = {}) {
  const headers: Record<string, string> = {};
  if (options.auth) headers.Authorization = options.auth;
  let body: string | FormData | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) body = options.form;
  const response = await fetch(`${BASE}${path}`, { method, headers, body });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function waitForHealth(deadline: number): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(`${BASE}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the api did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const main = 'dist/apps/api/src/main.js';
if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
const dataDir = mkdtempSync(join(tmpdir(), 'diyml-bench-'));
// BENCH_NODE_ARGS: extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const server = spawn(process.execPath, [...nodeArgs, main], {
  env: { ...process.env, PORT: String(PORT), DATA_DIR: dataDir, LOG_LEVEL: 'warn', PREDICT_RATE_LIMIT: '100000000' },
  stdio: ['ignore', 'inherit', 'inherit'],
});

try {
  await waitForHealth(Date.now() + 60_000);
  const credentials = { username: `bench${Date.now().toString(36)}`, password: 'correct horse battery' };
  await call('POST', '/v1/auth/register', { json: credentials });
  const auth = `Bearer ${(await call('POST', '/v1/auth/login', { json: credentials })).accessToken}`;
  const project = await call('POST', '/v1/projects', { auth, json: { name: 'fashion-shaped', type: 'classification' } });
  for (const [index, name] of CLASSES.entries()) {
    await call('POST', `/v1/projects/${project.id}/labels`, { auth, json: { name } });
    const form = new FormData();
    for (let i = 0; i < 12; i++) form.append('images', new Blob([await image(index, i + 1)], { type: 'image/png' }), `${index}-${i}.png`);
    form.append('label', name);
    await call('POST', `/v1/projects/${project.id}/images`, { auth, form });
  }
  const trainingConfig = { imageSize: 28, architecture: 'small-cnn', epochs: 3, batchSize: 16, learningRate: 0.005, seed: 1, augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 } };
  const queued = await call('POST', `/v1/projects/${project.id}/iterations`, { auth, json: { trainingConfig } });
  let iteration = queued;
  while (!['completed', 'failed', 'cancelled'].includes(iteration.status)) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    iteration = await call('GET', `/v1/projects/${project.id}/iterations/${queued.id}`, { auth });
  }
  if (iteration.status !== 'completed') throw new Error(`training ${iteration.status}: ${JSON.stringify(iteration.error)}`);
  const deployment = await call('POST', `/v1/projects/${project.id}/deployments`, { auth, json: { iterationId: queued.id } });

  // An image the model never saw (seed beyond the training ones), as a client would send it.
  const body = await image(7, 1000);
  const headers = { 'Content-Type': 'image/png', 'X-Api-Key': deployment.apiKey };
  const check = await fetch(`${BASE}${deployment.endpoint}`, { method: 'POST', headers, body });
  const answer = (await check.json()) as { predictions: { label: string; probability: number }[] };
  if (!check.ok) throw new Error(`prediction failed: ${JSON.stringify(answer)}`);

  const run = (duration: number) =>
    autocannon({ url: `${BASE}${deployment.endpoint}`, method: 'POST', headers, body, connections: CONNECTIONS, duration });
  await run(3); // warm-up: model loaded, JIT warm
  const loadBefore = loadavg()[0];
  const result = await run(DURATION);
  const failures = result.errors + result.timeouts + result.non2xx;
  const line = {
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    requestsPerSecond: Math.round(result.requests.average),
    total: result.requests.total,
    failures,
  };
  console.log(`top prediction for the check image: ${answer.predictions[0].label} (${answer.predictions[0].probability.toFixed(3)})`);
  console.log(
    `${CONNECTIONS} connections, ${DURATION} s: p50 ${line.p50} ms, p99 ${line.p99} ms, ${line.requestsPerSecond} req/s, ` +
      `${line.total} requests, ${failures} failed`,
  );

  if (WRITE) {
    const cpu = cpus()[0]?.model ?? 'unknown cpu';
    const section = [
      '<!-- prediction-latency:start -->',
      '## Prediction latency and throughput',
      '',
      '`npm run build && npx tsx bench/prediction-latency.ts` — autocannon against `POST /v1/predict/{deploymentId}` of the',
      'built api (embedded mode), one 28×28 grayscale PNG per request (raw `image/png` body), a 10-class small-cnn',
      'model of Fashion-MNIST\'s shape trained on generated images, after a 3 s warm-up.',
      'Goal on a 2-core machine: p99 under 20 ms and at least 500 requests/second.',
      '',
      '| date | machine | load average before | backend | connections | duration | p50 | p90 | p99 | max | requests/s | failed |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      `| ${new Date().toISOString().slice(0, 10)} | ${availableParallelism()} × ${cpu} | ${loadBefore.toFixed(1)} | ${iteration.backend} | ${CONNECTIONS} | ${DURATION} s | ` +
        `${line.p50} ms | ${line.p90} ms | ${line.p99} ms | ${line.max} ms | ${line.requestsPerSecond} | ${failures} |`,
      '',
      'The server and autocannon share the same cores, as they do on a single machine; a load average above the core',
      'count means other work competed for them during the run.',
      '<!-- prediction-latency:end -->',
    ].join('\n');
    const file = 'BENCHMARKS.md';
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const pattern = /<!-- prediction-latency:start -->[\s\S]*?<!-- prediction-latency:end -->/;
    writeFileSync(file, pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`);
    console.log(`written to ${file}`);
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
