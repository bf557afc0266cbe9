/**
 * Where a phone photo's prediction goes (issue 12).
 * 1. In this process: CPU-ms of the classifier's decode + resize to 224×224 (libs/ml's pipeline) of a 12-MP baseline
 *    and progressive JPEG, beside sharp pipelines that differ in what may keep libjpeg from shrinking while decoding
 *    (no EXIF rotation, sequential read, a full decode), and the memory one 50-MP progressive JPEG's decode takes.
 * 2. Over HTTP: what one 12-MP photo's prediction costs the api, split by the api's threads (its main thread, V8's
 *    helper threads, libvips' and libuv's pools where sharp decodes), and the api's RSS, beside the sample photo it is
 *    made from. A default classifier is trained on the Custom Vision tree samples
 *    (../shared/datasets/custom-vision-samples, MIT) first.
 *
 * Run: npx tsx bench/photo-prediction-cost.ts [rounds=3] [predictions=40]   (by hand; BENCH_SKIP_BUILD=1 after
 * `npx nest build api`; BENCH_NODE_ARGS adds node flags to the api, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or
 * "--trace-gc" with BENCH_API_STDOUT=1). The api is started as package.json's `start` starts it
 * (MALLOC_MMAP_THRESHOLD_=131072); part 1 runs with this process's environment: run it with and without that variable.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { decodeResized } from '@diyml/ml';
import { BenchClient, processMemory, startProduct, until } from './support/product.js';
import { median } from './support/result.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'custom-vision-samples', 'classification');
const rounds = Number(process.argv[2] ?? 3);
const predictions = Number(process.argv[3] ?? 40);

/** Upscaled to 12 MP with sensor-like grain, as bench/phone-photos.ts makes them (q92, ~4 MiB). */
async function phonePhoto(bytes: Uint8Array, progressive: boolean): Promise<Buffer> {
  const phone = { width: 4032, height: 3024 };
  const noise = await sharp({
    create: {
      ...phone,
      channels: 3,
      background: { r: 128, g: 128, b: 128 },
      noise: { type: 'gaussian', mean: 128, sigma: 24 },
    },
  })
    .png()
    .toBuffer();
  return sharp(bytes)
    .resize(phone.width, phone.height, { fit: 'fill' })
    .composite([{ input: noise, blend: 'soft-light' }])
    .jpeg({ quality: 92, progressive })
    .toBuffer();
}

/** CPU-ms of each of the process's threads so far, by thread name (/proc/<pid>/task/<tid>/stat). */
function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    const group = Number(tid) === pid ? 'main' : name.replace(/\d+$/, '').trim();
    byName.set(group, (byName.get(group) ?? 0) + ms);
  }
  return byName;
}

const hemlock = readFileSync(join(SAMPLES, 'test', 'hemlock_test.jpg'));
const photos: Record<string, Buffer> = {
  'sample 1260×900': hemlock,
  '12-MP baseline': await phonePhoto(hemlock, false),
  '12-MP progressive': await phonePhoto(hemlock, true),
};

// 1. In this process.
const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};
const pipelines: Record<string, (bytes: Buffer) => Promise<unknown>> = {
  "libs/ml's decodeResized": (bytes) => decodeResized(bytes, { width: 224, height: 224 }, 3),
  'no EXIF rotation, flatten or colourspace': (bytes) =>
    sharp(bytes).resize(224, 224, { fit: 'fill' }).raw().toBuffer(),
  sequentialRead: (bytes) =>
    sharp(bytes, { sequentialRead: true, failOn: 'error' }).rotate().resize(224, 224, { fit: 'fill' }).raw().toBuffer(),
  'full decode, no resize': (bytes) => sharp(bytes).raw().toBuffer(),
};
console.log(
  `In this process (MALLOC_MMAP_THRESHOLD_=${process.env.MALLOC_MMAP_THRESHOLD_ ?? 'unset'}), load ${loadavg()[0].toFixed(1)}:`,
);
for (const name of ['12-MP baseline', '12-MP progressive']) {
  for (const [pipeline, run] of Object.entries(pipelines)) {
    await run(photos[name]);
    const start = process.cpuUsage();
    const times = pipeline.startsWith('full') ? 3 : 10;
    for (let i = 0; i < times; i++) await run(photos[name]);
    console.log(`  ${name}, ${pipeline}: ${(cpuMsSince(start) / times).toFixed(1)} CPU-ms`);
  }
}
{
  // A 12-MP body as the socket hands it over (64 KiB chunks), concatenated into fresh memory or copied into reused memory.
  const chunks = Array.from({ length: 67 }, () => Buffer.alloc(64 * 1024, 7));
  const reused = Buffer.allocUnsafeSlow(chunks.length * 64 * 1024);
  const copyInto = () => chunks.reduce((offset, chunk) => offset + chunk.copy(reused, offset), 0);
  for (const [name, run] of [
    ['Buffer.concat of 67 chunks of 64 KiB', () => Buffer.concat(chunks)],
    ['the same copied into a buffer used before', copyInto],
  ] as const) {
    run();
    const start = process.cpuUsage();
    for (let i = 0; i < 50; i++) run();
    console.log(`  ${name}: ${(cpuMsSince(start) / 50).toFixed(2)} CPU-ms`);
  }
}
{
  const big = { width: 8160, height: 6144 };
  const grain = (image: Sharp) =>
    image.composite([
      {
        input: {
          create: { ...big, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 24 } },
        },
        blend: 'soft-light',
      },
    ]);
  const progressive = await grain(sharp(hemlock).resize(big.width, big.height, { fit: 'fill' }))
    .jpeg({ quality: 92, progressive: true })
    .toBuffer();
  // Sampled while libvips decodes on its own threads (this thread is free meanwhile).
  const rssBefore = processMemory(process.pid).rssMiB;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, processMemory(process.pid).rssMiB)), 5);
  const start = process.cpuUsage();
  await decodeResized(progressive, { width: 224, height: 224 }, 3);
  const cpu = cpuMsSince(start);
  clearInterval(sampler);
  console.log(
    `  50-MP progressive JPEG (${(progressive.length / 2 ** 20).toFixed(1)} MiB), libs/ml's decodeResized: ` +
      `${cpu.toFixed(0)} CPU-ms, RSS ${rssBefore.toFixed(0)} → peak ${peak.toFixed(0)} MiB`,
  );
}

// 2. Over HTTP.

const product = await startProduct({ fresh: true, env: { PREDICT_RATE_LIMIT: '100000000' } });
try {
  const client = await BenchClient.register(product.base);
  const labels = ['Hemlock', 'Japanese Cherry'];
  const projectId = await client.createProject('Prediction cost', labels);
  for (const label of labels) {
    const files = readdirSync(join(SAMPLES, label))
      .sort()
      .map((name) => ({ name, bytes: readFileSync(join(SAMPLES, label, name)) }));
    await client.upload(projectId, files, { label });
  }
  const queued = await client.json<{ id: string }>('POST', `/v1/projects/${projectId}/iterations`, {});
  await until(
    () => client.json<{ status: string }>('GET', `/v1/projects/${projectId}/iterations/${queued.id}`),
    (iteration) => ['completed', 'failed'].includes(iteration.status),
  );
  const deployment = await client.json<{ id: string; apiKey: string }>(
    'POST',
    `/v1/projects/${projectId}/deployments`,
    {
      iterationId: queued.id,
    },
  );
  const predict = async (bytes: Buffer) => {
    const response = await fetch(`${product.base}/v1/predict/${deployment.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-api-key': deployment.apiKey },
      body: bytes,
    });
    const body = (await response.json()) as { predictions: { label: string; probability: number }[] };
    if (!response.ok) throw new Error(JSON.stringify(body));
    return body.predictions[0];
  };
  console.log(`load ${loadavg()[0].toFixed(1)}, api RSS at rest ${product.rssMiB().toFixed(0)} MiB`);
  for (let round = 1; round <= rounds; round++) {
    for (const [name, bytes] of Object.entries(photos)) {
      const top = await predict(bytes);
      const before = threadCpuMs(product.pid);
      const cpuBefore = product.cpuMs();
      const times: number[] = [];
      let peak = 0;
      for (let i = 0; i < predictions; i++) {
        const started = performance.now();
        await predict(bytes);
        times.push(performance.now() - started);
        peak = Math.max(peak, processMemory(product.pid).rssMiB);
      }
      const after = threadCpuMs(product.pid);
      const perThread = [...after]
        .map(([group, ms]) => [group, (ms - (before.get(group) ?? 0)) / predictions] as const)
        .filter(([, ms]) => ms >= 0.5)
        .sort((a, b) => b[1] - a[1])
        .map(([group, ms]) => `${group} ${ms.toFixed(1)}`)
        .join(', ');
      console.log(
        `round ${round} ${name.padEnd(18)} ${top.label} ${(top.probability * 100).toFixed(2)}%: ` +
          `api CPU ${((product.cpuMs() - cpuBefore) / predictions).toFixed(1)} ms a prediction (${perThread}), ` +
          `p50 ${median(times).toFixed(0)} ms, RSS peak ${peak.toFixed(0)} MiB, load ${loadavg()[0].toFixed(1)}`,
      );
    }
  }
} finally {
  await product.stop();
}
