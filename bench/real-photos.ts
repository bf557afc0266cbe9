/**
 * Real photos through the product, as a new user would try them over HTTP with default settings: the sample
 * photos of Azure Custom Vision's quickstarts (../shared/datasets/custom-vision-samples, MIT). Compares the default
 * (a head on the frozen pretrained backbone), the same with the backbone's last block fine-tuned (fineTune 1), and
 * training from scratch.
 *
 * Classification: Hemlock / Japanese Cherry, 10 photos each. (1) Trained on all 20, the quickstart's hemlock test
 * photo is predicted through a deployment (goal: Hemlock ≥ 95%), with the prediction latency of one photo. Backbone
 * projects are configured before the upload, so their photos are embedded in the background; training is queued
 * once that is done (the upload-to-done time is a figure of its own).
 * (2) Hold-out accuracy: photos are split into folds by number (1–3, 4–6, 7–10); each fold is uploaded to the
 * test split, the rest trains, and a test run scores the held-out photos; accuracy is over every held-out photo.
 * The engine's embedding rate (images/s through the frozen backbone, on onnxruntime-node and on tfjs) is measured
 * apart, in the benchmark's process.
 *
 * Run: npx tsx bench/real-photos.ts [--quick | --smoke]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { decodeResized, loadBackbone, MOBILENET_V2_NSFWJS, selectBackend } from '@diyml/ml';
import { computeEmbeddings, emptyEmbeddingTable, IDENTITY_VIEW } from '@diyml/ml';
import { BenchClient, startProduct, until, type RunningProduct } from './support/product.js';
import { emitResult, isQuick, loadAverages, percentile, sized, type Figure } from './support/result.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'custom-vision-samples');
const quick = isQuick();
const PREDICTIONS = sized({ full: 20, quick: 5, smoke: 1 });
/** Photos of each tag used (the first ones by number): --smoke keeps 6, the 5 training needs and one held out. */
const PHOTOS_PER_TAG = sized({ full: 10, quick: 10, smoke: 6 });
/** Added to every variant's configuration: --smoke trains one epoch. */
const MODE_CONFIG = sized<Record<string, unknown>>({ full: {}, quick: {}, smoke: { epochs: 1 } });

interface Photo {
  name: string;
  bytes: Uint8Array;
  /** The number in the file name (hemlock_7.jpg → 7). */
  number: number;
}

function photos(directory: string): Photo[] {
  return readdirSync(directory)
    .filter((file) => /\.(jpe?g|png)$/i.test(file))
    .map((file) => ({
      name: file,
      bytes: new Uint8Array(readFileSync(join(directory, file))),
      number: Number(/(\d+)\.\w+$/.exec(file)?.[1] ?? 0),
    }))
    .sort((a, b) => a.number - b.number)
    .slice(0, PHOTOS_PER_TAG);
}

/**
 * The ways of training compared: the product's default, the default with the backbone's last block fine-tuned, and
 * the from-scratch CNN it used before backbones. Each is the project's configuration before its photos are uploaded.
 */
const VARIANTS: { name: string; config: Record<string, unknown> }[] = [
  { name: 'default (backbone)', config: {} },
  // Left out of --quick (the smoke test in npm test): it trains the backbone block at every step.
  ...(quick ? [] : [{ name: 'fineTune 1 (last backbone block trained)', config: { fineTune: 1 } }]),
  { name: 'small-cnn from scratch', config: { architecture: 'small-cnn' } },
];

/** Waits until the project's photos are embedded in the background (backbone variants); the seconds it took. */
async function backgroundEmbeddings(
  client: BenchClient,
  projectId: string,
  images: number,
  since: number,
): Promise<number> {
  await until(
    () => client.json<{ items: { imageCount: number }[] }>('GET', `/v1/projects/${projectId}/embeddings`),
    (cache) => cache.items.some((table) => table.imageCount >= images),
  );
  return (performance.now() - since) / 1000;
}

type Iteration = {
  id: string;
  status: string;
  architecture: string;
  history: { durationMs: number }[];
  durationMs: number | null;
  error?: unknown;
};

async function trainAndWait(client: BenchClient, projectId: string): Promise<Iteration> {
  const queued = await client.json<{ id: string }>('POST', `/v1/projects/${projectId}/iterations`, {});
  const iteration = await until(
    () => client.json<Iteration>('GET', `/v1/projects/${projectId}/iterations/${queued.id}`),
    (value) => ['completed', 'failed', 'cancelled'].includes(value.status),
  );
  if (iteration.status !== 'completed')
    throw new Error(`training ended ${iteration.status}: ${JSON.stringify(iteration.error)}`);
  return iteration;
}

async function predictOnce(base: string, deployment: { id: string; apiKey: string }, bytes: Uint8Array) {
  const started = performance.now();
  const response = await fetch(`${base}/v1/predict/${deployment.id}`, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg', 'x-api-key': deployment.apiKey },
    body: bytes,
  });
  if (!response.ok) throw new Error(`predict: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { predictions: { label: string; probability: number }[] };
  return { ms: performance.now() - started, predictions: body.predictions };
}

async function classification(product: RunningProduct): Promise<{ figures: Record<string, Figure>; notes: string[] }> {
  const root = join(SAMPLES, 'classification');
  const labels = ['Hemlock', 'Japanese Cherry'];
  const byLabel = labels.map((label) => photos(join(root, label)));
  const testPhoto = new Uint8Array(readFileSync(join(root, 'test', 'hemlock_test.jpg')));
  const folds = sized<[number, number][]>({
    smoke: [[PHOTOS_PER_TAG, PHOTOS_PER_TAG]],
    quick: [[8, 10]],
    full: [
      [1, 3],
      [4, 6],
      [7, 10],
    ],
  });
  const photoCount = labels.length * PHOTOS_PER_TAG;
  const client = await BenchClient.register(product.base);
  const figures: Record<string, Figure> = {};
  const notes: string[] = [];

  for (const variant of VARIANTS) {
    // (1) All the photos (20), the quickstart's test photo through a deployment.
    const onBackbone = variant.config.architecture === undefined;
    const projectId = await client.createProject(`Trees, ${variant.name}`, labels);
    await client.json('PUT', `/v1/projects/${projectId}/training-config`, { ...variant.config, ...MODE_CONFIG });
    const uploaded = performance.now();
    for (const [index, label] of labels.entries()) {
      await client.upload(
        projectId,
        byLabel[index].map((photo) => ({ name: photo.name, bytes: photo.bytes })),
        { label },
      );
    }
    if (onBackbone) {
      const seconds = await backgroundEmbeddings(client, projectId, photoCount, uploaded);
      figures[`${variant.name}: background embeddings of ${photoCount} photos, upload to done`] = {
        value: seconds,
        unit: 's',
        better: 'lower',
      };
    }
    const started = performance.now();
    const iteration = await trainAndWait(client, projectId);
    const trainSeconds = (performance.now() - started) / 1000;
    const headSeconds = iteration.history.reduce((sum, epoch) => sum + epoch.durationMs, 0) / 1000;
    const deployment = await client.json<{ id: string; apiKey: string }>(
      'POST',
      `/v1/projects/${projectId}/deployments`,
      { iterationId: iteration.id },
    );
    const first = await predictOnce(product.base, deployment, testPhoto);
    const latencies: number[] = [];
    for (let i = 0; i < PREDICTIONS; i++) latencies.push((await predictOnce(product.base, deployment, testPhoto)).ms);
    latencies.sort((a, b) => a - b);
    const hemlock = first.predictions.find((prediction) => prediction.label === 'Hemlock')?.probability ?? 0;
    figures[`${variant.name}: hemlock test photo, P(Hemlock)`] = {
      value: hemlock * 100,
      unit: '%',
      better: 'higher',
      goal: 95,
    };
    figures[
      `${variant.name}: training on ${photoCount} photos, queue to completed${onBackbone ? ' (after embeddings)' : ''}`
    ] = {
      value: trainSeconds,
      unit: 's',
      better: 'lower',
    };
    figures[`${variant.name}: training epochs (after embeddings)`] = { value: headSeconds, unit: 's', better: 'lower' };
    figures[`${variant.name}: predict one photo over HTTP, p50`] = {
      value: percentile(latencies, 50),
      unit: 'ms',
      better: 'lower',
      goal: 60,
    };
    notes.push(
      `${variant.name}: architecture ${iteration.architecture}; hemlock test photo → ${first.predictions[0].label} ${(first.predictions[0].probability * 100).toFixed(1)}%`,
    );

    // (2) Hold-out accuracy over folds of photo numbers.
    let right = 0;
    let total = 0;
    for (const [from, to] of folds) {
      const foldProject = await client.createProject(`Trees ${from}-${to} held out, ${variant.name}`, labels);
      await client.json('PUT', `/v1/projects/${foldProject}/training-config`, { ...variant.config, ...MODE_CONFIG });
      for (const [index, label] of labels.entries()) {
        const held = (photo: Photo) => photo.number >= from && photo.number <= to;
        const upload = (list: Photo[], split: string) =>
          client.upload(
            foldProject,
            list.map((photo) => ({ name: photo.name, bytes: photo.bytes })),
            { label, split },
          );
        await upload(
          byLabel[index].filter((photo) => !held(photo)),
          'train',
        );
        await upload(byLabel[index].filter(held), 'test');
      }
      const trained = await trainAndWait(client, foldProject);
      const run = await client.json<{ id: string }>(
        'POST',
        `/v1/projects/${foldProject}/iterations/${trained.id}/test-runs`,
        { split: 'test' },
      );
      const tested = await until(
        () =>
          client.json<{ status: string; metrics: { accuracy: number } | null; imageCount?: number; error?: unknown }>(
            'GET',
            `/v1/projects/${foldProject}/iterations/${trained.id}/test-runs/${run.id}`,
          ),
        (value) => value.status !== 'requested' && value.status !== 'running',
      );
      if (tested.status !== 'completed' || !tested.metrics)
        throw new Error(`test run ${tested.status}: ${JSON.stringify(tested.error)}`);
      const count = labels.length * (to - from + 1);
      right += Math.round(tested.metrics.accuracy * count);
      total += count;
    }
    figures[`${variant.name}: hold-out accuracy (${total} photos, ${folds.length} folds)`] = {
      value: (right / total) * 100,
      unit: '%',
      better: 'higher',
    };
  }
  return { figures, notes };
}

/** Images per second through the frozen MobileNetV2 to its embedding layer, in this process, onnxruntime and tfjs. */
async function embeddingRate(): Promise<{ figures: Record<string, Figure>; notes: string[] }> {
  const backend = await selectBackend();
  const root = join(SAMPLES, 'classification');
  // --smoke: one photo, as tfjs wasm embeds about one a second on a busy machine.
  const all = ['Hemlock', 'Japanese Cherry']
    .flatMap((label) => photos(join(root, label)))
    .slice(0, sized({ full: undefined, quick: undefined, smoke: 1 }));
  const size = MOBILENET_V2_NSFWJS.inputSize;
  const jobs = await Promise.all(
    all.map(async (photo) => ({
      hash: photo.name,
      pixels: (await decodeResized(photo.bytes, { width: size, height: size }, 3)).pixels,
    })),
  );
  const layer = MOBILENET_V2_NSFWJS.embeddingLayer;
  const dimension = MOBILENET_V2_NSFWJS.featureLayers.find((feature) => feature.name === layer)!.channels;
  const figures: Record<string, Figure> = {};
  for (const [name, runnerFactory] of [
    ['onnxruntime-node (default)', undefined],
    [`tfjs ${backend}`, 'tfjs'],
  ] as const) {
    const backbone = await loadBackbone(MOBILENET_V2_NSFWJS.id, { runnerFactory });
    try {
      // A first pass warms the runtime up; the second is measured.
      await computeEmbeddings(
        backbone,
        emptyEmbeddingTable({ backbone: 'warm-up', layer, preprocessing: '' }, dimension),
        jobs.slice(0, 4),
        [IDENTITY_VIEW],
        16,
      );
      const started = performance.now();
      const computed = await computeEmbeddings(
        backbone,
        emptyEmbeddingTable({ backbone: backbone.descriptor.id, layer, preprocessing: '' }, dimension),
        jobs,
        [IDENTITY_VIEW],
        16,
      );
      const seconds = (performance.now() - started) / 1000;
      figures[`embedding rate, MobileNetV2 224 px to ${layer}, ${name}`] = {
        value: computed / seconds,
        unit: 'images/s',
        better: 'higher',
        goal: 40,
      };
    } finally {
      backbone.dispose();
    }
  }
  return { figures, notes: [`embedding rates over ${jobs.length} decoded photos, batches of 16`] };
}

const loadBefore = loadavg();
const product = await startProduct({ env: { BLOB_FSYNC: 'false' } });
try {
  const sections = [await classification(product), await embeddingRate()];
  emitResult('real-photos', Object.assign({}, ...sections.map((section) => section.figures)), [
    ...sections.flatMap((section) => section.notes),
    `load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
  ]);
} finally {
  await product.stop();
}
