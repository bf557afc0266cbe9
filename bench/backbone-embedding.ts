/**
 * Embedding photos with a pretrained backbone: the frozen MobileNetV2 bundled in nsfwjs@4 (224×224 RGB in [0, 1])
 * run by onnxruntime-node (the graph converted by libs/ml/src/onnx; one image per run, its operations split over
 * one thread per core that sleep when idle) against tfjs on the wasm backend.
 * (1) The forward pass alone, on photos decoded beforehand: to the default embedding layer (block_13_expand_relu,
 * 14×14×576) at batch sizes 1, 8 and 32 (--quick, --smoke: 1 and 8), to the last features (out_relu, 7×7×1280) at batch 8;
 * at batch 8 also onnxruntime with one thread, and with its threads spinning while idle (onnxruntime's default), to
 * compare in the same run; tfjs at batch 8. Images/s counts 128 images (32 on tfjs; --quick 16 and 8, --smoke 8 and 8) after one
 * warm-up batch; images per CPU-second (CPU time of all the process's threads) tells what the cores give when no
 * other work competes. (2) The product's embedding path, from JPEG bytes to pooled embeddings: embedEncodedImages on
 * the registered backbone in batches of 8, as the background embeddings after an upload and training run it
 * (decoding and resizing with sharp, the next batch's while this one's forward pass runs). (3) The median latency
 * of decoding and resizing one photo, of one image's forward pass, and of a photo classifier built like diyml's
 * (MobileNetV2 to block_13_expand_relu, pooled, a softmax head), saved, loaded with loadModel and asked to predict
 * one JPEG at a time: the prediction path of a deployment without HTTP. (4) The product's embedding threads (built
 * code, as the api runs them): the time of a first request of 4 photos on a new thread, which loads MobileNetV2 and
 * builds its runner (what every request paid before threads were kept warm), of a second request of 4 other photos
 * on the warm thread, and the RSS the warm thread holds.
 * The photos are the sample photos in ../shared/datasets (generated images when they are missing; --smoke: 8 of them).
 *
 * Run: npx tsx bench/backbone-embedding.ts [--quick | --smoke] [--runtimes onnxruntime,tfjs]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import {
  convertToOnnx,
  createOnnxFeatureExtractor,
  decodeResized,
  embedEncodedImages,
  embeddingDimensionOf,
  embeddingSpaceOf,
  emptyEmbeddingTable,
  loadBackbone,
  loadModel,
  MOBILENET_V2_NSFWJS,
  SeededRandom,
  selectBackend,
  serializeModel,
  type FeatureExtractor,
} from '@diyml/ml';
import { IDENTITY_VIEW, imageContentHash } from '@diyml/ml';
import { loadNsfwjsMobileNetV2 } from '@diyml/ml/testing/nsfwjs-mobilenet.js';
import { colouredSquareImage } from '@diyml/ml/testing/synthetic-images.js';
import { buildProduct, ROOT } from './support/product.js';
import { emitResult, loadAverages, median, sized, type Figure } from './support/result.js';

const runtimesIndex = process.argv.indexOf('--runtimes');
const runtimes = (runtimesIndex >= 0 ? process.argv[runtimesIndex + 1] : 'onnxruntime,tfjs').split(',') as (
  'onnxruntime' | 'tfjs'
)[];
const SIZE = 224;
const IMAGE_VALUES = SIZE * SIZE * 3;
const BATCH_SIZES = sized({ full: [1, 8, 32], quick: [1, 8], smoke: [1, 8] });
/** Images timed per batch size and runtime; tfjs wasm is about 4× slower, so it gets fewer. */
const IMAGES = sized({
  full: { onnxruntime: 128, tfjs: 32 },
  quick: { onnxruntime: 16, tfjs: 8 },
  smoke: { onnxruntime: 8, tfjs: 8 },
});
const LATENCY_RUNS = sized({ full: 20, quick: 3, smoke: 1 });
const DATASETS = join(ROOT, '..', 'shared', 'datasets');
/** The layer the product pools its classification embeddings from. */
const DEFAULT_LAYER = MOBILENET_V2_NSFWJS.embeddingLayer;
/** Images per forward-pass batch in the product's embedding thread and training. */
const PRODUCT_BATCH = 8;

type Runner = Pick<FeatureExtractor, 'run'>;

function photoFiles(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return photoFiles(path);
    return /\.(jpe?g|png)$/i.test(entry.name) ? [path] : [];
  });
}

const notes: string[] = [];
// --smoke: the 8 photos the embedding threads' two requests use (all 62 samples: ~5 of its 17 CPU-s).
const files = photoFiles(DATASETS).slice(0, sized({ full: undefined, quick: undefined, smoke: 8 }));
const photos = files.length ? files.map((file) => readFileSync(file)) : [];
if (!photos.length) notes.push(`no photos under ${DATASETS}: generated 224-px images were used`);

/** Every photo decoded and resized to 224×224, as [0, 1] floats (the backbone's input range). */
async function preparedImages(): Promise<Float32Array[]> {
  if (!photos.length) {
    const random = new SeededRandom(1);
    return Array.from({ length: 32 }, () =>
      Float32Array.from(colouredSquareImage([200, 40, 40], SIZE, random).pixels, (value) => value / 255),
    );
  }
  return Promise.all(
    photos.map(async (photo) =>
      Float32Array.from((await decodeResized(photo, { width: SIZE, height: SIZE }, 3)).pixels, (value) => value / 255),
    ),
  );
}

function batchOf(images: readonly Float32Array[], start: number, count: number): Float32Array {
  const batch = new Float32Array(count * IMAGE_VALUES);
  for (let index = 0; index < count; index++) batch.set(images[(start + index) % images.length], index * IMAGE_VALUES);
  return batch;
}

/** Images/s over wall time, and images per CPU-second of this process (all its threads): what a load-free machine gives per core. */
async function throughput(
  extractor: Runner,
  images: readonly Float32Array[],
  batchSize: number,
  total: number,
): Promise<{ perSecond: number; perCpuSecond: number }> {
  await extractor.run(batchOf(images, 0, batchSize), batchSize);
  const batches = Math.max(1, Math.round(total / batchSize));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let index = 0; index < batches; index++)
    await extractor.run(batchOf(images, index * batchSize, batchSize), batchSize);
  const cpu = process.cpuUsage(cpuBefore);
  const count = batches * batchSize;
  return {
    perSecond: count / ((performance.now() - started) / 1000),
    perCpuSecond: count / ((cpu.user + cpu.system) / 1e6),
  };
}

async function medianMilliseconds(runs: number, task: (index: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < runs; index++) {
    const started = performance.now();
    await task(index);
    times.push(performance.now() - started);
  }
  return median(times);
}

/** A session with onnxruntime's default of spinning intra-op threads, otherwise as createOnnxFeatureExtractor makes it. */
async function spinningRunner(layer: string): Promise<Runner & { dispose(): Promise<void> }> {
  const conversion = convertToOnnx(model, { outputLayers: [layer] });
  const session = await ort.InferenceSession.create(conversion.bytes, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: availableParallelism(),
    interOpNumThreads: 1,
  });
  return {
    run: async (batch, count) => {
      for (let index = 0; index < count; index++) {
        await session.run({
          [conversion.input.name]: new ort.Tensor(
            'float32',
            batch.subarray(index * IMAGE_VALUES, (index + 1) * IMAGE_VALUES),
            [1, SIZE, SIZE, 3],
          ),
        });
      }
      return [];
    },
    dispose: () => session.release(),
  };
}

const loadBefore = loadavg();
const backend = await selectBackend('wasm');
const model = await loadNsfwjsMobileNetV2();
const images = await preparedImages();
const figures: Record<string, Figure> = {};
if (photos.length) {
  figures['one photo, JPEG decoding + resizing to 224 px alone'] = {
    value: await medianMilliseconds(LATENCY_RUNS, (index) =>
      decodeResized(photos[index % photos.length], { width: SIZE, height: SIZE }, 3),
    ),
    unit: 'ms',
    better: 'lower',
  };
}
const cores = availableParallelism();
const info: Record<string, string> = { backend, cores: String(cores), photos: String(photos.length) };
const onnxLabel = `onnxruntime-node (${cores} threads)`;

/** Images/s (goal 40 on onnxruntime, the product's runtime) and, at batch 8, images per CPU-second. */
async function measure(runner: Runner, label: string, batchSize: number, total: number, goal: boolean): Promise<void> {
  const measured = await throughput(runner, images, batchSize, total);
  figures[`${label}, batch ${batchSize}`] = {
    value: measured.perSecond,
    unit: 'images/s',
    better: 'higher',
    ...(goal ? { goal: 40 } : {}),
  };
  if (batchSize === 8)
    figures[`${label}, batch 8, per CPU-second`] = {
      value: measured.perCpuSecond,
      unit: 'images/CPU-s',
      better: 'higher',
    };
}

for (const runtime of runtimes) {
  const extractor = await createOnnxFeatureExtractor(model, [DEFAULT_LAYER], { runtime });
  if (extractor.runtime !== runtime) {
    notes.push(`${runtime} could not be used (${extractor.fallbackReason ?? 'unknown reason'}); not measured`);
    continue;
  }
  const label = runtime === 'onnxruntime' ? onnxLabel : `tfjs ${backend}`;
  for (const batchSize of runtime === 'onnxruntime' ? BATCH_SIZES : [8]) {
    await measure(
      extractor,
      `MobileNetV2 224 px to ${DEFAULT_LAYER}, ${label}`,
      batchSize,
      IMAGES[runtime],
      runtime === 'onnxruntime',
    );
  }
  figures[`one image, forward pass to ${DEFAULT_LAYER}, ${label}`] = {
    value: await medianMilliseconds(LATENCY_RUNS, (index) => extractor.run(images[index % images.length], 1)),
    unit: 'ms',
    better: 'lower',
  };
  await extractor.dispose();
  const top = await createOnnxFeatureExtractor(model, ['out_relu'], { runtime });
  await measure(top, `MobileNetV2 224 px to out_relu, ${label}`, 8, IMAGES[runtime], runtime === 'onnxruntime');
  await top.dispose();
  if (runtime === 'onnxruntime') {
    // The settings before: one thread (runs never overlap: onnxruntime-node runs a session on the calling thread).
    const oneThread = await createOnnxFeatureExtractor(model, [DEFAULT_LAYER], { runtime, threads: 1 });
    await measure(
      oneThread,
      `MobileNetV2 224 px to ${DEFAULT_LAYER}, onnxruntime-node (1 thread)`,
      8,
      IMAGES[runtime],
      false,
    );
    await oneThread.dispose();
    const spinning = await spinningRunner(DEFAULT_LAYER);
    await measure(
      spinning,
      `MobileNetV2 224 px to ${DEFAULT_LAYER}, onnxruntime-node (${cores} threads spinning while idle)`,
      8,
      IMAGES[runtime],
      false,
    );
    await spinning.dispose();
  }
}

if (photos.length && runtimes.includes('onnxruntime')) {
  // The product's path from upload bytes to embeddings, on the registered backbone and its default runner.
  const backbone = await loadBackbone(MOBILENET_V2_NSFWJS.id);
  try {
    const encoded = photos.map((bytes) => ({ hash: imageContentHash(bytes), bytes }));
    const space = embeddingSpaceOf(backbone.descriptor);
    const dimension = embeddingDimensionOf(backbone.descriptor);
    // Warm-up: builds the backbone's runner (ONNX conversion, session) once, as the first batch of a thread does.
    await embedEncodedImages(
      backbone,
      emptyEmbeddingTable(space, dimension),
      encoded.slice(0, 4),
      [IDENTITY_VIEW],
      PRODUCT_BATCH,
    );
    const [rates, cpuRates]: number[][] = [[], []];
    for (let round = 0; round < sized({ full: 3, quick: 1, smoke: 1 }); round++) {
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      const computed = await embedEncodedImages(
        backbone,
        emptyEmbeddingTable(space, dimension),
        encoded,
        [IDENTITY_VIEW],
        PRODUCT_BATCH,
      );
      const cpu = process.cpuUsage(cpuBefore);
      rates.push(computed / ((performance.now() - started) / 1000));
      cpuRates.push(computed / ((cpu.user + cpu.system) / 1e6));
    }
    const label = `photos to embeddings (embedEncodedImages: JPEG decoding + resizing, MobileNetV2 to ${DEFAULT_LAYER}, pooling), batches of ${PRODUCT_BATCH}`;
    figures[label] = { value: median(rates), unit: 'images/s', better: 'higher', goal: 40 };
    figures[`${label}, per CPU-second`] = { value: median(cpuRates), unit: 'images/CPU-s', better: 'higher' };
    notes.push(
      `photos to embeddings: ${photos.length} photos, median of ${rates.length} passes (${rates.map((rate) => rate.toFixed(1)).join(', ')} images/s)`,
    );
  } finally {
    backbone.dispose();
  }
}

if (photos.length) {
  // A photo classifier as diyml deploys one: the backbone to its embedding layer, pooled, a softmax head, saved and loaded like a trained model.
  const pooled = tfl.layers
    .globalAveragePooling2d({ name: 'embedding_pool' })
    .apply(model.getLayer(DEFAULT_LAYER).output) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ name: 'head', units: 10, activation: 'softmax' }).apply(pooled) as tfl.SymbolicTensor;
  const classifier = tfl.model({ inputs: model.inputs, outputs: head });
  const labels = Array.from({ length: 10 }, (_, index) => `label ${index}`);
  const serialized = await serializeModel(classifier, {
    format: 'diyml',
    version: 1,
    architecture: 'transfer',
    task: 'classification',
    labels,
    imageSize: { width: SIZE, height: SIZE },
    channels: 3,
    fit: 'resize',
    inputRange: [0, 1],
  });
  for (const runtime of runtimes) {
    const deployed = await loadModel(serialized, { runtime });
    if (deployed.runtime !== runtime) continue;
    await deployed.predict(photos[0]);
    figures[
      `predict one photo (loadModel().predict: JPEG decoding, MobileNetV2 to ${DEFAULT_LAYER}, softmax head), ${runtime === 'onnxruntime' ? onnxLabel : `tfjs ${backend}`}`
    ] = {
      value: await medianMilliseconds(LATENCY_RUNS, (index) => deployed.predict(photos[index % photos.length])),
      unit: 'ms',
      better: 'lower',
    };
    deployed.dispose();
  }
}
if (photos.length && runtimes.includes('onnxruntime')) {
  buildProduct();
  const threadModule = pathToFileURL(join(ROOT, 'dist/libs/training/src/pure.js')).href;
  const { EmbeddingThreadPool } = (await import(threadModule)) as typeof import('@diyml/training/pure');
  const pool = new EmbeddingThreadPool({ maxThreads: 1 });
  const request = (start: number) => ({
    backbone: MOBILENET_V2_NSFWJS,
    cacheDirectory: tmpdir(),
    augmentation: false,
    table: null,
    images: photos
      .slice(start, start + 4)
      .map((bytes) => ({ hash: imageContentHash(bytes), bytes: new Uint8Array(bytes) })),
  });
  const timed = async (start: number) => {
    const started = performance.now();
    const result = await pool.embed(request(start));
    return { seconds: (performance.now() - started) / 1000, warm: result.warm };
  };
  const rssBefore = process.memoryUsage().rss;
  const first = await timed(0);
  const second = await timed(4);
  const rssWarm = process.memoryUsage().rss;
  await pool.closeAll();
  const rssClosed = process.memoryUsage().rss;
  figures[
    'embedding thread, 4 photos, first request (new thread: loads MobileNetV2, builds its runner; every request before)'
  ] = { value: first.seconds, unit: 's', better: 'lower' };
  figures['embedding thread, 4 other photos, second request (warm thread)'] = {
    value: second.seconds,
    unit: 's',
    better: 'lower',
  };
  figures['RSS held by a warm MobileNetV2 embedding thread'] = {
    value: (rssWarm - rssBefore) / 2 ** 20,
    unit: 'MiB',
    better: 'lower',
  };
  notes.push(
    `embedding threads: warm on the second request ${second.warm} (first ${first.warm}); RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssWarm / 2 ** 20).toFixed(0)} with the warm thread, ${(rssClosed / 2 ** 20).toFixed(0)} after closing it`,
  );
}
model.dispose();

notes.push(
  `load average before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())} (1/5/15 min) on ${cores} cores: other work competed for the cores when above`,
);
emitResult('backbone-embedding', figures, notes, info);
