/**
 * Where one detection prediction's time goes, on a shared machine: CPU time (process.cpuUsage, every thread of the
 * process: sharp's, onnxruntime's and JavaScript's) beside wall time, per stage, for the Custom Vision quickstart's
 * fork test photo (816×612 JPEG) on the default 'backbone-detector' (trained one epoch on fork/scissors photos 1–15:
 * accuracy is not the point here, real-photos-detection.ts measures it). Stages as the api runs them: the header
 * check, decode + letterbox, the model's input values, the forward pass, decode/NMS with boxes back on the photo, JSON.
 *
 * With --http, also the same photo over HTTP through the built api (`npx nest build api` first): the first prediction
 * a few seconds after deploying, then wall p50/p90 of a series, the api's CPU time per prediction and the time its
 * threads spent runnable but waiting for a core (run-queue wait, /proc/<pid>/task/<tid>/schedstat): on a busy machine
 * that wait, not the api's work, is what stretches the wall time.
 *
 * Run: npx tsx bench/detection-prediction-profile.ts [rounds=60] [--http | --http-only]   (by hand; not part of
 * `npm run bench`)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  anchorFreeHead,
  boxFromLetterbox,
  createOnnxFeatureExtractor,
  deserializeModel,
  LoadedModel,
  prepareImage,
  selectBackend,
  toInputArray,
  train,
  type InputSpec,
  type TrainingDataset,
} from '@diyml/ml';
import { DETECTION_SAMPLES, detectionSamples } from './support/detection-samples.js';
import { BenchClient, startProduct, until } from './support/product.js';
import { loadAverages, percentile } from './support/result.js';

const rounds = Number(process.argv.slice(2).find((argument) => /^\d+$/.test(argument)) ?? 60);
const overHttp = process.argv.includes('--http') || process.argv.includes('--http-only');
const inProcess = !process.argv.includes('--http-only');
/** Time between deploying and the first prediction: a user pasting the new key into a client takes longer. */
const PAUSE_AFTER_DEPLOY_MS = 10_000;

/** Milliseconds the threads of a process spent runnable but waiting for a core, so far (threads alive now). */
function runQueueWaitMs(pid: number): number {
  let waitNs = 0;
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    try {
      waitNs += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return waitNs / 1e6;
}

const { labels, photos } = detectionSamples();
const trainingPhotos = photos.filter((photo) => photo.number < 16);
const forkTest = new Uint8Array(readFileSync(join(DETECTION_SAMPLES, 'test', 'fork_test.jpg')));

/** Wall and CPU milliseconds of each run of each stage. */
const samples = new Map<string, { wall: number[]; cpu: number[] }>();
async function timed<T>(stage: string, run: () => T | Promise<T>): Promise<T> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await run();
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const entry = samples.get(stage) ?? { wall: [], cpu: [] };
  entry.wall.push(wall);
  entry.cpu.push((cpu.user + cpu.system) / 1000);
  samples.set(stage, entry);
  return result;
}
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

const loadBefore = loadavg();
const rows: { stage: string; wall: number; cpu: number }[] = [];
// Over HTTP first: this process then holds no model and runs no runtime's threads beside the client's.
if (overHttp) {
  const product = await startProduct({ env: { BLOB_FSYNC: 'false', PREDICT_RATE_LIMIT: '100000000' } });
  try {
    const client = await BenchClient.register(product.base);
    const project = await client.json<{ id: string }>('POST', '/v1/projects', { name: 'Cutlery', type: 'detection' });
    for (const label of labels) await client.json('POST', `/v1/projects/${project.id}/labels`, { name: label });
    const items = await client.upload(project.id, trainingPhotos);
    await client.json('POST', `/v1/projects/${project.id}/images/labels`, {
      items: items.map((item, index) => ({
        imageId: item.id,
        regions: trainingPhotos[index].boxes.map(({ label, ...box }) => ({ label: labels[label], ...box })),
      })),
    });
    console.error('training over HTTP (1 epoch)…');
    const queued = await client.json<{ id: string }>('POST', `/v1/projects/${project.id}/iterations`, {
      trainingConfig: { epochs: 1 },
    });
    const iteration = await until(
      () => client.json<{ status: string }>('GET', `/v1/projects/${project.id}/iterations/${queued.id}`),
      (value) => ['completed', 'failed', 'cancelled'].includes(value.status),
    );
    if (iteration.status !== 'completed') throw new Error(`training ended ${iteration.status}`);
    const deployment = await client.json<{ id: string; apiKey: string }>(
      'POST',
      `/v1/projects/${project.id}/deployments`,
      { iterationId: queued.id },
    );
    /** `encoding`: what the client accepts: undici's default (gzip, deflate, br), or 'identity' (no compression). */
    const predict = async (encoding?: string) => {
      const started = performance.now();
      const response = await fetch(`${product.base}/v1/predict/${deployment.id}`, {
        method: 'POST',
        headers: {
          'content-type': 'image/jpeg',
          'x-api-key': deployment.apiKey,
          ...(encoding ? { 'accept-encoding': encoding } : {}),
        },
        body: forkTest,
      });
      if (!response.ok) throw new Error(`predict: ${response.status} ${await response.text()}`);
      await response.json();
      return performance.now() - started;
    };
    await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_DEPLOY_MS));
    rows.push({
      stage: `HTTP: first prediction, ${PAUSE_AFTER_DEPLOY_MS / 1000} s after deploying`,
      wall: await predict(),
      cpu: Number.NaN,
    });
    for (let warm = 0; warm < 3; warm++) await predict();
    // Alternately, so that both kinds of request meet the same load.
    const latencies: number[] = [];
    const uncompressed: number[] = [];
    const apiCpuBefore = product.cpuMs();
    const waitBefore = runQueueWaitMs(product.pid);
    for (let round = 0; round < rounds; round++) {
      latencies.push(await predict());
      uncompressed.push(await predict('identity'));
    }
    const apiCpu = (product.cpuMs() - apiCpuBefore) / (2 * rounds);
    const wait = (runQueueWaitMs(product.pid) - waitBefore) / (2 * rounds);
    latencies.sort((a, b) => a - b);
    uncompressed.sort((a, b) => a - b);
    rows.push(
      { stage: 'HTTP: one prediction, p50 (api CPU per prediction)', wall: percentile(latencies, 50), cpu: apiCpu },
      { stage: 'HTTP: one prediction, p90', wall: percentile(latencies, 90), cpu: Number.NaN },
      {
        stage: 'HTTP: one prediction, accept-encoding identity, p50',
        wall: percentile(uncompressed, 50),
        cpu: Number.NaN,
      },
      {
        stage: "HTTP: the api's threads waiting for a core, per prediction (sum over threads)",
        wall: wait,
        cpu: Number.NaN,
      },
    );
  } finally {
    await product.stop();
  }
}

if (inProcess) {
  await selectBackend();
  const dataset: TrainingDataset = {
    task: 'detection',
    labels,
    examples: trainingPhotos.map((photo) => ({ image: photo.bytes, boxes: photo.boxes })),
  };
  console.error(`training a backbone detector (1 epoch) on ${dataset.examples.length} photos…`);
  const trained = await train(dataset, { architecture: 'backbone-detector', epochs: 1, seed: 1 });

  const loaded = await timed('load (LoadedModel.load: deserialize, convert to ONNX, session)', () =>
    LoadedModel.load(trained.model),
  );
  const { model, metadata } = await deserializeModel(trained.model);
  const spec: InputSpec = loaded.inputSpec;
  const forward = await createOnnxFeatureExtractor(model, []);
  console.error(`predictions run on ${loaded.runtime}; the stages' forward pass on ${forward.runtime}`);
  const decodeOptions = { threshold: 0.25, overlapThreshold: 0.45, maxResults: 100 };

  for (let round = 0; round < rounds; round++) {
    await timed('1 header check (sharp metadata)', () => sharp(forkTest, { limitInputPixels: false }).metadata());
    const prepared = await timed('2 decode + letterbox to 224 (sharp)', () => prepareImage(forkTest, spec));
    const input = await timed('3 input values (bytes to [-1, 1] floats)', () => toInputArray([prepared.pixels], spec));
    const [values] = await timed('4 forward pass (backbone + head)', () => forward.run(input, 1));
    const predictions = await timed('5 decode, NMS, boxes on the photo', () =>
      anchorFreeHead.decode(values, forward.outputs[0].shape, decodeOptions).map((raw) => ({
        label: metadata!.labels[raw.label],
        probability: raw.probability,
        box: boxFromLetterbox(raw.box!, prepared.transform),
      })),
    );
    await timed('6 JSON', () => JSON.stringify({ predictions }));
    await timed('all: LoadedModel.predict', () => loaded.predict(forkTest));
  }
  await forward.dispose();
  model.dispose();
  loaded.dispose();

  rows.unshift(...[...samples].map(([stage, { wall, cpu }]) => ({ stage, wall: median(wall), cpu: median(cpu) })));
}

console.log(`| stage (median of ${rounds}) | wall ms | CPU ms |\n|---|---|---|`);
for (const { stage, wall, cpu } of rows)
  console.log(`| ${stage} | ${wall.toFixed(1)} | ${Number.isNaN(cpu) ? '' : cpu.toFixed(1)} |`);
console.log(`load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`);
