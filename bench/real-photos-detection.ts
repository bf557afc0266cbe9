/**
 * Object detection on real photos through the product, as a new user would try it over HTTP with default
 * settings: the fork and scissors photos of Azure Custom Vision's quickstart (../shared/datasets/custom-vision-samples,
 * MIT), one object each, with the boxes the quickstart publishes. Compares the default (a head on the pretrained
 * backbone) with the tiny detector trained from scratch.
 *
 * Photos 1–15 of each tag train, 16–20 are held out. Backbone variants train a second iteration on the same photos and
 * settings, which reuses the first one's cached feature maps (its time is a figure of its own). A test run of the
 * first iteration on every photo (training and held-out) is timed too: a backbone detector predicts the photos its
 * training cached maps for from those maps, and runs its backbone on the held-out ones only. A held-out object counts as found when a prediction (at the
 * deployment's default threshold) has its tag and an IoU ≥ 0.5 with its box; "top box right" asks the same of the
 * photo's best prediction. The quickstart's fork test photo has no published box: FORK_TEST_BOX is the fork's box
 * read off the photo by eye (handle end to tine tips). Wall times follow the machine's load; the api's CPU time (all
 * its threads: training runs on its worker threads in the embedded mode) hardly does, so training and predictions are
 * also given in CPU time, predictions of the fork test photo as it is and as a phone's 12-MP JPEG of it.
 *
 * Run: npx tsx bench/real-photos-detection.ts [--quick | --smoke]   (--quick: the default architecture only, 3 predictions; --smoke: one epoch, photo 16 held out, 1 prediction)
 * (--smoke holds out photo 16 only, its test run 32 photos: training needs its 15 boxes a tag.)
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { iou, type Box } from '@diyml/ml';
import { BenchClient, startProduct, until, type RunningProduct } from './support/product.js';
import { emitResult, isQuick, isSmoke, loadAverages, percentile, sized, type Figure } from './support/result.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'custom-vision-samples', 'detection');
const FORK_TEST_BOX: Box = { x: 0.1, y: 0.25, width: 0.64, height: 0.55 };
const HELD_OUT_FROM = 16;
const quick = isQuick();
const PREDICTIONS = sized({ full: 10, quick: 3, smoke: 1 });
/** Held-out photos are numbered HELD_OUT_FROM to HELD_OUT_UP_TO. */
const HELD_OUT_UP_TO = sized({ full: 20, quick: 20, smoke: HELD_OUT_FROM });
/** Added to every variant's configuration: --smoke trains one epoch. */
const MODE_CONFIG = sized<Record<string, unknown>>({ full: {}, quick: {}, smoke: { epochs: 1 } });
/** Predictions of the fork test photo, as it is and at 12 MP, whose api CPU time is averaged. */
const CPU_PREDICTIONS = sized({ full: 20, quick: 10, smoke: 1 });
/** Test runs of the first iteration timed (median); --smoke runs one. */
const TEST_RUNS = sized({ full: 3, quick: 3, smoke: 1 });

const VARIANTS: { name: string; config: Record<string, unknown> }[] = [
  { name: 'default (backbone)', config: {} },
  ...(quick ? [] : [{ name: 'tiny-detector from scratch', config: { architecture: 'tiny-detector' } }]),
];

interface Photo {
  name: string;
  bytes: Uint8Array;
  number: number;
  tag: string;
  box: Box;
}

interface Coco {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { image_id: number; category_id: number; bbox: [number, number, number, number] }[];
  categories: { id: number; name: string }[];
}

function photos(): { tags: string[]; photos: Photo[] } {
  const coco = JSON.parse(readFileSync(join(SAMPLES, 'annotations.coco.json'), 'utf8')) as Coco;
  const tags = coco.categories.map((category) => category.name);
  return {
    tags,
    photos: coco.images.map((image) => {
      const annotation = coco.annotations.find((candidate) => candidate.image_id === image.id)!;
      const [x, y, width, height] = annotation.bbox;
      return {
        name: image.file_name,
        bytes: new Uint8Array(readFileSync(join(SAMPLES, 'images', image.file_name))),
        number: Number(/(\d+)\.\w+$/.exec(image.file_name)?.[1] ?? 0),
        tag: coco.categories.find((category) => category.id === annotation.category_id)!.name,
        box: { x: x / image.width, y: y / image.height, width: width / image.width, height: height / image.height },
      };
    }),
  };
}

type Iteration = {
  id: string;
  status: string;
  architecture: string;
  history: { durationMs: number }[];
  embeddings?: { computed: number; reused: number };
  error?: unknown;
};

/** Queues an iteration and waits until it ends: the iteration and the seconds from queueing to completion. */
async function trainOnce(
  client: BenchClient,
  projectId: string,
  config: Record<string, unknown>,
): Promise<{ iteration: Iteration; seconds: number }> {
  const started = performance.now();
  const queued = await client.json<{ id: string }>('POST', `/v1/projects/${projectId}/iterations`, {
    trainingConfig: { ...config, ...MODE_CONFIG },
  });
  const iteration = await until(
    () => client.json<Iteration>('GET', `/v1/projects/${projectId}/iterations/${queued.id}`),
    (value) => ['completed', 'failed', 'cancelled'].includes(value.status),
  );
  if (iteration.status !== 'completed')
    throw new Error(`training ended ${iteration.status}: ${JSON.stringify(iteration.error)}`);
  return { iteration, seconds: (performance.now() - started) / 1000 };
}
type Prediction = { label: string; probability: number; box?: Box };

type TestRun = {
  status: string;
  durationMs?: number;
  metrics: { map50: number } | null;
  embeddings?: { computed: number; reused: number };
  error?: unknown;
};

/** A test run of the iteration on `photos` (uploaded with their boxes): seconds from the request to its completion. */
async function timedTestRun(
  client: BenchClient,
  projectId: string,
  iterationId: string,
  photos: Photo[],
): Promise<{ seconds: number; jobSeconds: number; map50: number; embeddings?: TestRun['embeddings'] }> {
  const form = new FormData();
  for (const photo of photos) form.append('images', new Blob([photo.bytes], { type: 'image/jpeg' }), photo.name);
  form.append(
    'labels',
    JSON.stringify(Object.fromEntries(photos.map((photo) => [photo.name, [{ label: photo.tag, ...photo.box }]]))),
  );
  const runs = `/v1/projects/${projectId}/iterations/${iterationId}/test-runs`;
  const started = performance.now();
  const response = await fetch(`${client.base}${runs}`, {
    method: 'POST',
    headers: { authorization: client.auth },
    body: form,
  });
  if (response.status !== 202) throw new Error(`test run: ${response.status} ${await response.text()}`);
  const { id } = (await response.json()) as { id: string };
  const run = await until(
    () => client.json<TestRun>('GET', `${runs}/${id}`),
    (value) => value.status !== 'requested',
    () => new Promise((resolve) => setTimeout(resolve, 100)),
  );
  if (run.status !== 'completed' || !run.metrics)
    throw new Error(`test run ${run.status}: ${JSON.stringify(run.error)}`);
  return {
    seconds: (performance.now() - started) / 1000,
    jobSeconds: (run.durationMs ?? 0) / 1000,
    map50: run.metrics.map50,
    embeddings: run.embeddings,
  };
}

async function predict(
  base: string,
  deployment: { id: string; apiKey: string },
  bytes: Uint8Array,
): Promise<{ ms: number; predictions: Prediction[] }> {
  const started = performance.now();
  const response = await fetch(`${base}/v1/predict/${deployment.id}`, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg', 'x-api-key': deployment.apiKey },
    body: bytes,
  });
  if (!response.ok) throw new Error(`predict: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { predictions: Prediction[] };
  return { ms: performance.now() - started, predictions: body.predictions };
}

/**
 * A phone's 12-MP photo of the same scene: upscaled to 4032×3024 with sensor-like grain, JPEG q92 (~4 MiB). --smoke
 * leaves the grain out (~4 CPU-s of gaussian noise): the api decodes a 12-MP JPEG all the same, only a smaller one.
 */
async function phonePhoto(bytes: Uint8Array): Promise<Uint8Array> {
  const phone = { width: 4032, height: 3024, channels: 3 as const };
  const upscaled = sharp(bytes).resize(phone.width, phone.height, { fit: 'fill' });
  if (!isSmoke()) {
    const grain = await sharp({
      create: { ...phone, background: { r: 128, g: 128, b: 128 }, noise: { type: 'gaussian', mean: 128, sigma: 24 } },
    })
      .raw()
      .toBuffer();
    upscaled.composite([{ input: grain, raw: phone, blend: 'soft-light' }]);
  }
  return new Uint8Array(await upscaled.jpeg({ quality: 92 }).toBuffer());
}

/** The api's CPU time (all its threads) per prediction of `bytes`, over `count` predictions. */
async function predictionCpuMs(
  product: RunningProduct,
  deployment: { id: string; apiKey: string },
  bytes: Uint8Array,
  count: number,
): Promise<number> {
  const before = product.cpuMs();
  for (let i = 0; i < count; i++) await predict(product.base, deployment, bytes);
  return (product.cpuMs() - before) / count;
}

async function detection(product: RunningProduct): Promise<{ figures: Record<string, Figure>; notes: string[] }> {
  const { tags, photos: all } = photos();
  const training = all.filter((photo) => photo.number < HELD_OUT_FROM);
  const heldOut = all.filter((photo) => photo.number >= HELD_OUT_FROM && photo.number <= HELD_OUT_UP_TO);
  // Every photo (40) in a full or quick run; --smoke leaves out the held-out photos it does not predict, whose feature
  // maps the test run would compute through the backbone (the photos the training cached maps for are predicted from them).
  const tested = [...training, ...heldOut];
  const testedPhotos = `${tested.length === all.length ? 'all ' : ''}${tested.length} photos`;
  const forkTest = new Uint8Array(readFileSync(join(SAMPLES, 'test', 'fork_test.jpg')));
  const forkTestAt12MP = await phonePhoto(forkTest);
  const client = await BenchClient.register(product.base);
  const figures: Record<string, Figure> = {};
  const notes: string[] = [];

  for (const variant of VARIANTS) {
    const project = await client.json<{ id: string }>('POST', '/v1/projects', {
      name: `Cutlery, ${variant.name}`,
      type: 'detection',
    });
    for (const tag of tags) await client.json('POST', `/v1/projects/${project.id}/labels`, { name: tag });
    const items = await client.upload(
      project.id,
      training.map((photo) => ({ name: photo.name, bytes: photo.bytes })),
    );
    await client.json('POST', `/v1/projects/${project.id}/images/labels`, {
      items: items.map((item, index) => ({
        imageId: item.id,
        regions: [{ label: training[index].tag, ...training[index].box }],
      })),
    });

    console.error(`${variant.name}: ${items.length} photos uploaded and labeled, training…`);
    const cpuBeforeTraining = product.cpuMs();
    const { iteration, seconds: trainSeconds } = await trainOnce(client, project.id, variant.config);
    const trainCpuSeconds = (product.cpuMs() - cpuBeforeTraining) / 1000;
    const headSeconds = iteration.history.reduce((sum, epoch) => sum + epoch.durationMs, 0) / 1000;
    console.error(`${variant.name}: trained in ${trainSeconds.toFixed(0)} s, predicting…`);
    const deployment = await client.json<{ id: string; apiKey: string }>(
      'POST',
      `/v1/projects/${project.id}/deployments`,
      { iterationId: iteration.id },
    );

    let found = 0;
    let topRight = 0;
    for (const photo of heldOut) {
      const { predictions } = await predict(product.base, deployment, photo.bytes);
      const right = (prediction: Prediction) =>
        prediction.label === photo.tag && prediction.box !== undefined && iou(prediction.box, photo.box) >= 0.5;
      if (predictions.some(right)) found += 1;
      if (predictions.length > 0 && right(predictions[0])) topRight += 1;
    }
    const { predictions: forkPredictions } = await predict(product.base, deployment, forkTest);
    const top = forkPredictions[0];
    const latencies: number[] = [];
    for (let i = 0; i < PREDICTIONS; i++) latencies.push((await predict(product.base, deployment, forkTest)).ms);
    latencies.sort((a, b) => a - b);
    const photoCpuMs = await predictionCpuMs(product, deployment, forkTest, CPU_PREDICTIONS);
    const phonePhotoCpuMs = await predictionCpuMs(product, deployment, forkTestAt12MP, CPU_PREDICTIONS);

    figures[`${variant.name}: held-out objects found (of ${heldOut.length})`] = {
      value: found,
      unit: 'objects',
      better: 'higher',
      goal: 9,
    };
    figures[`${variant.name}: held-out photos with the top box right (of ${heldOut.length})`] = {
      value: topRight,
      unit: 'photos',
      better: 'higher',
    };
    figures[`${variant.name}: fork test photo, P(Fork) of the top box`] = {
      value: top?.label === 'Fork' ? top.probability * 100 : 0,
      unit: '%',
      better: 'higher',
      goal: 50,
    };
    figures[`${variant.name}: fork test photo, IoU of the top box with the fork`] = {
      value: top?.box ? iou(top.box, FORK_TEST_BOX) : 0,
      unit: '',
      better: 'higher',
      goal: 0.5,
    };
    figures[`${variant.name}: training on ${training.length} photos, queue to completed`] = {
      value: trainSeconds,
      unit: 's',
      better: 'lower',
    };
    figures[`${variant.name}: training epochs (after features)`] = { value: headSeconds, unit: 's', better: 'lower' };
    figures[`${variant.name}: training on ${training.length} photos, api CPU time`] = {
      value: trainCpuSeconds,
      unit: 's',
      better: 'lower',
    };
    if (iteration.embeddings) {
      // A second iteration on the same photos and settings: the backbone's feature maps come from the first one's cache.
      const cpuBeforeSecond = product.cpuMs();
      const second = await trainOnce(client, project.id, variant.config);
      figures[`${variant.name}: second iteration on the same photos, queue to completed`] = {
        value: second.seconds,
        unit: 's',
        better: 'lower',
      };
      figures[`${variant.name}: second iteration on the same photos, api CPU time`] = {
        value: (product.cpuMs() - cpuBeforeSecond) / 1000,
        unit: 's',
        better: 'lower',
      };
      notes.push(
        `${variant.name}: feature maps computed/reused by the first iteration ${iteration.embeddings.computed}/${iteration.embeddings.reused}, by the second ${second.iteration.embeddings?.computed}/${second.iteration.embeddings?.reused}`,
      );
    }
    const testRuns = [];
    for (let run = 0; run < TEST_RUNS; run++)
      testRuns.push(await timedTestRun(client, project.id, iteration.id, tested));
    const testRun = testRuns[0];
    const median = (values: number[]) =>
      percentile(
        [...values].sort((a, b) => a - b),
        50,
      );
    figures[`${variant.name}: test run on ${testedPhotos}, queue to completed (median of ${TEST_RUNS})`] = {
      value: median(testRuns.map((run) => run.seconds)),
      unit: 's',
      better: 'lower',
    };
    figures[`${variant.name}: test run on ${testedPhotos}, its job's duration (median of ${TEST_RUNS})`] = {
      value: median(testRuns.map((run) => run.jobSeconds)),
      unit: 's',
      better: 'lower',
    };
    figures[`${variant.name}: test run on ${testedPhotos}, mAP@0.5`] = {
      value: testRun.map50,
      unit: '',
      better: 'higher',
    };
    notes.push(
      `${variant.name}: test run on ${testedPhotos}: ${testRun.embeddings ? `${testRun.embeddings.reused} predicted from cached feature maps, ${testRun.embeddings.computed} through the backbone` : 'every photo through the whole model'}`,
    );
    figures[`${variant.name}: predict one photo over HTTP, p50`] = {
      value: percentile(latencies, 50),
      unit: 'ms',
      better: 'lower',
      goal: 60,
    };
    figures[`${variant.name}: predict the fork test photo (816×612), api CPU per call`] = {
      value: photoCpuMs,
      unit: 'ms',
      better: 'lower',
    };
    figures[`${variant.name}: predict the fork test photo at 12 MP (4032×3024), api CPU per call`] = {
      value: phonePhotoCpuMs,
      unit: 'ms',
      better: 'lower',
    };
    notes.push(
      `${variant.name}: architecture ${iteration.architecture}; fork test photo → ${top ? `${top.label} ${(top.probability * 100).toFixed(1)}%` : 'nothing'} (${forkPredictions.length} boxes)`,
    );
  }
  return { figures, notes };
}

const loadBefore = loadavg();
const product = await startProduct({ env: { BLOB_FSYNC: 'false' } });
try {
  const { figures, notes } = await detection(product);
  emitResult('real-photos-detection', figures, [
    ...notes,
    `load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
  ]);
} finally {
  await product.stop();
}
