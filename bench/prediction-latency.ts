/**
 * Prediction latency and throughput of a deployed model, measured with autocannon against the built api
 * (embedded mode). As a client would: registers, creates a 10-class project of 28×28 grayscale images (the
 * shape of Fashion-MNIST; the images are generated, no data set is read), trains the default small-cnn,
 * deploys it, and fires single-image predictions (raw `image/png` bodies) at `POST /v1/predict/{id}` after a
 * warm-up, then again with the deployment's prediction store on (every answer first journaled to the disk).
 * The rate limit is raised for the run so that it measures the model, not the limiter. The server and
 * autocannon share the same cores, as they do on a single machine.
 *
 * Run: npx tsx bench/prediction-latency.ts [--quick | --smoke] [--connections N (default: 4, then 8)] [--duration 20]
 */
import autocannon from 'autocannon';
import { loadavg } from 'node:os';
import sharp from 'sharp';
import { FASHION_MNIST_LABELS as CLASSES } from './support/fashion-mnist.js';
import { BenchClient, startProduct, until } from './support/product.js';
import { describeLoadLength, emitResult, loadAverages, loadLength, numberOption, sized } from './support/result.js';

/** Concurrent clients: a load that gives the throughput goal, and one past saturation. */
const LOADS = (process.argv.includes('--connections') ? [numberOption('connections', 8)] : [4, 8]) as number[];
const DURATION = numberOption('duration', sized({ full: 20, quick: 3, smoke: 1 }));
const WARM_UP = sized({ full: 3, quick: 1, smoke: 1 });

/** A 28×28 grayscale picture per class: a bright bar at a class-specific place and angle, with noise. */
async function image(classIndex: number, seed: number): Promise<Buffer> {
  let state = (seed * 2654435761 + classIndex * 97) >>> 0;
  const random = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
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
  return sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toBuffer();
}

const product = await startProduct({ env: { PREDICT_RATE_LIMIT: '100000000' } });
try {
  const client = await BenchClient.register(product.base);
  const projectId = await client.createProject('fashion-shaped', CLASSES);
  for (const [index, name] of CLASSES.entries()) {
    const files = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => ({ name: `${index}-${i}.png`, bytes: await image(index, i + 1) })),
    );
    await client.upload(projectId, files, { label: name });
  }
  const trainingConfig = {
    imageSize: 28,
    architecture: 'small-cnn',
    epochs: 3,
    batchSize: 16,
    learningRate: 0.005,
    seed: 1,
    augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
  };
  const queued = await client.json<{ id: string }>('POST', `/v1/projects/${projectId}/iterations`, { trainingConfig });
  const iteration = await until(
    () =>
      client.json<{ status: string; backend: string; error?: unknown }>(
        'GET',
        `/v1/projects/${projectId}/iterations/${queued.id}`,
      ),
    (value) => ['completed', 'failed', 'cancelled'].includes(value.status),
  );
  if (iteration.status !== 'completed')
    throw new Error(`training ${iteration.status}: ${JSON.stringify(iteration.error)}`);
  const deployment = await client.json<{ id: string; apiKey: string; endpoint: string }>(
    'POST',
    `/v1/projects/${projectId}/deployments`,
    { iterationId: queued.id },
  );

  // An image the model never saw (seed beyond the training ones), as a client would send it.
  const body = await image(7, 1000);
  const headers = { 'Content-Type': 'image/png', 'X-Api-Key': deployment.apiKey };
  const check = await fetch(`${product.base}${deployment.endpoint}`, { method: 'POST', headers, body });
  const answer = (await check.json()) as { predictions: { label: string; probability: number }[] };
  if (!check.ok) throw new Error(`prediction failed: ${JSON.stringify(answer)}`);
  console.error(
    `top prediction for the check image: ${answer.predictions[0].label} (${answer.predictions[0].probability.toFixed(3)})`,
  );

  const run = (connections: number, length: { duration: number } | { amount: number }) =>
    autocannon({
      url: `${product.base}${deployment.endpoint}`,
      method: 'POST',
      headers,
      body,
      connections,
      ...length,
    });
  await run(LOADS[0], loadLength(WARM_UP, LOADS[0])); // model loaded, JIT warm
  const figures: Parameters<typeof emitResult>[1] = {};
  const notes: string[] = [];
  for (const connections of LOADS) {
    const loadBefore = loadavg();
    const result = await run(connections, loadLength(DURATION, connections));
    if (result.requests.total === 0) throw new Error('autocannon sent no request');
    // The figures at the first load keep their plain names (the harness and its smoke test look for them).
    const at = connections === LOADS[0] ? '' : ` (${connections} connections)`;
    Object.assign(figures, {
      [`latency p50${at}`]: { value: result.latency.p50, unit: 'ms', better: 'lower' },
      [`latency p90${at}`]: { value: result.latency.p90, unit: 'ms', better: 'lower' },
      [`latency p99${at}`]: { value: result.latency.p99, unit: 'ms', better: 'lower', goal: 20 },
      [`latency max${at}`]: { value: result.latency.max, unit: 'ms', better: 'lower' },
      [`throughput${at}`]: { value: result.requests.average, unit: 'requests/s', better: 'higher', goal: 500 },
      [`failed requests${at}`]: {
        value: result.errors + result.timeouts + result.non2xx,
        unit: 'requests',
        better: 'lower',
      },
    });
    notes.push(
      `${connections} connections ${describeLoadLength(loadLength(DURATION, connections))}, ${result.requests.total} requests; load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
    );
  }
  // The same again with the deployment keeping its predictions: each answer waits for its journal's fdatasync.
  await client.json('PUT', `/v1/projects/${projectId}/deployments/${deployment.id}/prediction-store`, {
    enabled: true,
    maxCount: 1000,
  });
  await run(LOADS[0], loadLength(WARM_UP, LOADS[0]));
  const stored = await run(LOADS[0], loadLength(DURATION, LOADS[0]));
  if (stored.requests.total === 0) throw new Error('autocannon sent no request with the prediction store on');
  Object.assign(figures, {
    'latency p50 (prediction store on)': { value: stored.latency.p50, unit: 'ms', better: 'lower' },
    'latency p99 (prediction store on)': { value: stored.latency.p99, unit: 'ms', better: 'lower' },
    'throughput (prediction store on)': { value: stored.requests.average, unit: 'requests/s', better: 'higher' },
    'failed requests (prediction store on)': {
      value: stored.errors + stored.timeouts + stored.non2xx,
      unit: 'requests',
      better: 'lower',
    },
  });
  notes.push(
    `prediction store on (at most 1,000 kept): ${LOADS[0]} connections ${describeLoadLength(loadLength(DURATION, LOADS[0]))}, ${stored.requests.total} requests`,
  );
  notes.unshift(
    `after a warm-up ${describeLoadLength(loadLength(WARM_UP, LOADS[0]))}; backend ${iteration.backend}; plain figures at ${LOADS[0]} connections`,
  );
  emitResult('prediction-latency', figures, notes, { backend: iteration.backend });
} finally {
  await product.stop();
}
