/**
 * Image upload throughput over HTTP, end to end: the real API (embedded mode: SQLite events, in-memory read
 * models, blobs on disk) in its own process; small generated PNGs sent in batches of 100 per request; each
 * request answers once every image is checked (decoded by sharp), stored, recorded and readable.
 *
 * Run: npx tsx bench/upload-throughput.ts [images=2000] [batch=100] [parallel requests=1]
 * Writes the result into BENCHMARKS.md (section "Image upload throughput").
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateImage } from '../libs/datasets/src/testing/test-images.js';

const total = Number(process.argv[2] ?? 2000);
const batchSize = Number(process.argv[3] ?? 100);
/** Requests in flight at once (an uploading UI sends a few in parallel). */
const parallel = Number(process.argv[4] ?? 1);
const root = join(import.meta.dirname, '..');
const buildDir = join(root, 'dist', 'bench-api');
const port = 38000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;

console.log('Building the API…');
if (!process.env.BENCH_SKIP_BUILD) try {
  execFileSync('npx', ['tsc', '-p', 'apps/api/tsconfig.app.json', '--outDir', buildDir], { cwd: root, stdio: 'pipe' });
} catch {
  // Type errors elsewhere still emit JavaScript; the server start below tells whether it runs.
}

const dataDir = mkdtempSync(join(tmpdir(), 'diyml-bench-'));
const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
const server = spawn(process.execPath, [...profile, join(buildDir, 'apps/api/src/main.js')], {
  cwd: root,
  env: { ...process.env, BLOB_FSYNC: process.env.BLOB_FSYNC ?? 'true', PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'error', MONGODB_URI: '', EVENTSTORE_CONNECTION_STRING: '', REDIS_URL: '' },
  stdio: ['ignore', 'inherit', 'inherit'],
});

async function waitForServer(): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('The API did not start.');
}

async function json(path: string, body: unknown, auth?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

try {
  console.log(`Generating ${total} PNGs…`);
  const images = await Promise.all(Array.from({ length: total }, (_, i) => generateImage(100_000 + i)));
  const averageBytes = images.reduce((sum, image) => sum + image.length, 0) / images.length;
  await waitForServer();
  await json('/v1/auth/register', { username: 'bench', password: 'benchmark-password' });
  const login = await json('/v1/auth/login', { username: 'bench', password: 'benchmark-password' });
  const auth = `Bearer ${login.accessToken as string}`;
  const project = await json('/v1/projects', { name: 'bench', type: 'classification' }, auth);
  await json(`/v1/projects/${project.id as string}/labels`, { name: 'cat' }, auth);

  const upload = async (batch: Buffer[], offset: number) => {
    const form = new FormData();
    form.append('label', 'cat');
    batch.forEach((bytes, i) => form.append('images', new Blob([bytes], { type: 'image/png' }), `bench-${offset + i}.png`));
    const response = await fetch(`${base}/v1/projects/${project.id as string}/images`, { method: 'POST', headers: { authorization: auth }, body: form });
    const body = (await response.json()) as { items: { status: string }[] };
    if (response.status !== 201 || body.items.some((item) => item.status !== 'created')) {
      throw new Error(`upload answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    }
  };

  // Warm-up (JIT, sharp, SQLite) on images that are not counted.
  const warmUp = await Promise.all(Array.from({ length: batchSize }, (_, i) => generateImage(900_000 + i)));
  await upload(warmUp, -batchSize);

  const started = performance.now();
  let nextOffset = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (nextOffset < total) {
        const offset = nextOffset;
        nextOffset += batchSize;
        await upload(images.slice(offset, offset + batchSize), offset);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const perSecond = total / seconds;

  const listed = await fetch(`${base}/v1/projects/${project.id as string}/analysis`, { headers: { authorization: auth } });
  const analysis = (await listed.json()) as { imageCount: number };
  if (analysis.imageCount !== total + batchSize) throw new Error(`expected ${total + batchSize} images, the analysis counts ${analysis.imageCount}`);

  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}`;
  const line = `| ${new Date().toISOString().slice(0, 10)} | ${total} PNGs (${averageBytes.toFixed(0)} bytes, 8–32 px) in batches of ${batchSize}, ${parallel === 1 ? 'one request at a time' : `${parallel} requests at a time`}${process.env.BLOB_FSYNC === 'false' ? ', BLOB_FSYNC=false' : ''} | **${perSecond.toFixed(0)} images/s** (${seconds.toFixed(2)} s) | ${machine} | ${loadavg()[0].toFixed(1)} |`;
  console.log(`${perSecond.toFixed(0)} images/s (${total} images in ${seconds.toFixed(2)} s)`);

  const file = join(root, 'BENCHMARKS.md');
  const heading = '## Image upload throughput';
  const section = [
    heading,
    '',
    '`npx tsx bench/upload-throughput.ts [images] [batch] [parallel]`: the built API in its own process, embedded mode (SQLite',
    'events, in-memory read models, blobs on disk, fsynced unless BLOB_FSYNC=false), `POST /v1/projects/{id}/images` over HTTP. Each image is',
    'fully decoded by sharp, hashed, stored as a blob, claimed for duplicate detection and recorded; each request',
    'answers once its images are readable. Goal: at least 500 images/s on a 2-core machine. The load average column shows how',
    'busy the machine was with other work when the run started: numbers taken under load are lower bounds.',
    '',
    '| date | workload | throughput | machine | load average |',
    '|---|---|---|---|---|',
    line,
    '',
  ].join('\n');
  let content = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const start = content.indexOf(heading);
  if (start >= 0) {
    const next = content.indexOf('\n## ', start + heading.length);
    const end = next >= 0 ? next + 1 : content.length;
    // Keep the earlier runs (newest first) under the table header.
    const earlier = content
      .slice(start, end)
      .split('\n')
      .filter((row) => /^\| \d{4}-\d{2}-\d{2} /.test(row))
      .slice(0, 11);
    content = content.slice(0, start) + section.replace(`${line}\n`, [line, ...earlier].join('\n') + '\n') + content.slice(end);
  } else {
    content = `${content.trimEnd()}\n\n${section}`;
  }
  writeFileSync(file, content);
  console.log('Written to BENCHMARKS.md');
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
