/**
 * Fashion-MNIST end to end through the product, as a client would use it over HTTP: upload the 60,000
 * training images (labelled, in batches), train the default small CNN, then test the iteration on the
 * 10,000 test images (uploaded to the test split, which training leaves out). Reports upload and training
 * wall times and rates, test accuracy, API read latency (GET /v1/projects/{id}) while training, and the api
 * process's memory at rest and while training.
 *
 * Run: npx tsx bench/fashion-mnist.ts [--quick | --smoke] [--epochs N]
 */
import { loadavg } from 'node:os';
import sharp from 'sharp';
import type { RawImage } from '@diyml/ml';
import { FASHION_MNIST_LABELS, readFashionMnist } from './support/fashion-mnist.js';
import { BenchClient, startProduct, until } from './support/product.js';
import { emitResult, isSmoke, loadAverages, numberOption, percentile, sized } from './support/result.js';

// --smoke: 150, the first ones holding 11 to 19 of each label (training needs 5).
const TRAIN_COUNT = sized({ full: 60_000, quick: 3000, smoke: 150 });
const TEST_COUNT = sized({ full: 10_000, quick: 1000, smoke: 50 });
const EPOCHS = numberOption('epochs', sized({ full: 10, quick: 2, smoke: 1 }));
const BATCH = 500;
const TRAINING_CONFIG = {
  architecture: 'small-cnn',
  imageSize: 28,
  epochs: EPOCHS,
  batchSize: 32,
  learningRate: 0.001,
  validationSplit: 0,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
  seed: 1,
  earlyStopping: null,
};

async function encode(images: RawImage[]): Promise<Uint8Array[]> {
  const encoded: Uint8Array[] = [];
  for (let start = 0; start < images.length; start += 256) {
    const chunk = images.slice(start, start + 256);
    encoded.push(
      ...(await Promise.all(
        chunk.map((image) =>
          sharp(Buffer.from(image.pixels), {
            raw: { width: image.width, height: image.height, channels: image.channels },
          })
            .png()
            .toBuffer(),
        ),
      )),
    );
  }
  return encoded;
}

/** Uploads images grouped by label, `BATCH` per request; returns the seconds taken. */
async function uploadAll(
  client: BenchClient,
  projectId: string,
  pngs: Uint8Array[],
  labels: number[],
  split: string,
): Promise<number> {
  const byLabel = FASHION_MNIST_LABELS.map(() => [] as number[]);
  labels.forEach((label, index) => byLabel[label].push(index));
  const started = performance.now();
  for (const [label, indexes] of byLabel.entries()) {
    for (let start = 0; start < indexes.length; start += BATCH) {
      const files = indexes
        .slice(start, start + BATCH)
        .map((index) => ({ name: `${split}-${index}.png`, bytes: pngs[index] }));
      const items = await client.upload(projectId, files, { label: FASHION_MNIST_LABELS[label], split });
      const failed = items.filter((item) => item.status === 'rejected');
      if (failed.length > 0) throw new Error(`upload rejected ${failed.length} images: ${JSON.stringify(failed[0])}`);
    }
  }
  return (performance.now() - started) / 1000;
}

const train = readFashionMnist('train');
const test = readFashionMnist('t10k');
console.error(`Encoding ${TRAIN_COUNT} + ${TEST_COUNT} images as PNG…`);
const trainPngs = await encode(train.images.slice(0, TRAIN_COUNT));
const testPngs = await encode(test.images.slice(0, TEST_COUNT));

const loadBefore = loadavg();
// An api of its own for its memory figures; --smoke shares bench/run.ts's (booting one costs ~5 CPU-s).
const product = await startProduct({ fresh: !isSmoke(), env: { BLOB_FSYNC: 'false' } });
try {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const rssAtRest = product.rssMiB();
  const client = await BenchClient.register(product.base);
  const project = { id: await client.createProject('Fashion-MNIST', FASHION_MNIST_LABELS) };
  await client.json('PUT', `/v1/projects/${project.id}/training-config`, TRAINING_CONFIG);

  console.error('Uploading…');
  const uploadSeconds = await uploadAll(client, project.id, trainPngs, train.labels.slice(0, TRAIN_COUNT), 'train');
  await uploadAll(client, project.id, testPngs, test.labels.slice(0, TEST_COUNT), 'test');
  // What the read models and caches hold for 70,000 images, apart from what training adds.
  const rssAfterUpload = product.rssMiB();

  console.error('Training…');
  const trainingStarted = performance.now();
  const queued = await client.json<{ id: string }>('POST', `/v1/projects/${project.id}/iterations`, {});
  const readLatencies: number[] = [];
  let rssWhileTraining = 0;
  const iteration = await until(
    () =>
      client.json<{
        status: string;
        history: { imagesPerSecond: number }[];
        durationMs?: number;
        backend: string;
        error?: unknown;
      }>('GET', `/v1/projects/${project.id}/iterations/${queued.id}`),
    (value) => ['completed', 'failed', 'cancelled'].includes(value.status),
    async () => {
      for (let i = 0; i < 10; i += 1) {
        const started = performance.now();
        await client.json('GET', `/v1/projects/${project.id}`);
        readLatencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      rssWhileTraining = Math.max(rssWhileTraining, product.rssMiB());
    },
  );
  const trainingWallSeconds = (performance.now() - trainingStarted) / 1000;
  if (iteration.status !== 'completed')
    throw new Error(`training ended ${iteration.status}: ${JSON.stringify(iteration.error)}`);
  const rates = iteration.history.map((epoch) => epoch.imagesPerSecond).sort((a, b) => a - b);

  console.error('Testing…');
  const testStarted = performance.now();
  const run = await client.json<{ id: string }>(
    'POST',
    `/v1/projects/${project.id}/iterations/${queued.id}/test-runs`,
    { split: 'test' },
  );
  const tested = await until(
    () =>
      client.json<{ status: string; metrics: { accuracy: number } | null; error?: unknown }>(
        'GET',
        `/v1/projects/${project.id}/iterations/${queued.id}/test-runs/${run.id}`,
      ),
    (value) => value.status !== 'requested',
  );
  const testSeconds = (performance.now() - testStarted) / 1000;
  if (tested.status !== 'completed' || !tested.metrics)
    throw new Error(`test run ${tested.status}: ${JSON.stringify(tested.error)}`);
  readLatencies.sort((a, b) => a - b);

  emitResult(
    'fashion-mnist',
    {
      [`upload ${TRAIN_COUNT} training images (PNG, ${BATCH} per request), wall time`]: {
        value: uploadSeconds,
        unit: 's',
        better: 'lower',
      },
      'upload rate': { value: TRAIN_COUNT / uploadSeconds, unit: 'images/s', better: 'higher', goal: 500 },
      [`training wall time (${EPOCHS} epochs, queue to completed)`]: {
        value: trainingWallSeconds,
        unit: 's',
        better: 'lower',
        goal: 360,
      },
      'training throughput (median epoch)': {
        value: percentile(rates, 50),
        unit: 'images/s',
        better: 'higher',
        goal: 2000,
      },
      [`test accuracy (${TEST_COUNT} test images)`]: {
        value: tested.metrics.accuracy * 100,
        unit: '%',
        better: 'higher',
        goal: 90,
      },
      'test run wall time': { value: testSeconds, unit: 's', better: 'lower' },
      'GET /v1/projects/{id} p50 while training': { value: percentile(readLatencies, 50), unit: 'ms', better: 'lower' },
      'GET /v1/projects/{id} p99 while training': {
        value: percentile(readLatencies, 99),
        unit: 'ms',
        better: 'lower',
        goal: 50,
      },
      'api memory at rest (RSS)': { value: rssAtRest, unit: 'MiB', better: 'lower' },
      'api memory after upload (RSS)': { value: rssAfterUpload, unit: 'MiB', better: 'lower' },
      'api memory while training (peak RSS)': { value: rssWhileTraining, unit: 'MiB', better: 'lower' },
    },
    [
      `backend ${iteration.backend}; ${readLatencies.length} reads sampled during training; config ${JSON.stringify(TRAINING_CONFIG)}`,
      `load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
    ],
    { backend: iteration.backend },
  );
} finally {
  await product.stop();
}
