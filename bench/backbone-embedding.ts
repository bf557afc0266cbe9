/**
 * Embedding photos with a pretrained backbone: the frozen MobileNetV2 bundled in nsfwjs@4 (224×224 RGB in [0, 1]),
 * up to its last convolutional features (out_relu, 7×7×1280), run by onnxruntime-node (the graph converted by
 * libs/ml/src/onnx, one single-threaded run per image, as many at once as there are cores) against tfjs on the
 * wasm backend, at batch sizes 1, 8 and 32 (--quick: 1 and 8, fewer images); the median latency of one image's
 * forward pass, and of decoding and resizing one JPEG photo. The photos are the sample
 * photos in ../shared/datasets (generated images when they are missing), decoded once before the forward passes
 * are timed. Images/s counts 128 images per batch size (32 on tfjs) after one warm-up batch; images per CPU-second
 * (CPU time of all the process's threads) tells what each core gives when no other work competes. Last, a photo
 * classifier built like diyml's (MobileNetV2, pooled, a softmax head) is saved, loaded with loadModel and asked to
 * predict one JPEG at a time: the prediction path of a deployment without HTTP.
 *
 * Run: npx tsx bench/backbone-embedding.ts [--quick] [--runtimes onnxruntime,tfjs]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  createOnnxFeatureExtractor,
  decodeResized,
  loadModel,
  SeededRandom,
  selectBackend,
  serializeModel,
  type FeatureExtractor,
} from '../libs/ml/src/index.js';
import { loadNsfwjsMobileNetV2 } from '../libs/ml/src/testing/nsfwjs-mobilenet.js';
import { colouredSquareImage } from '../libs/ml/src/testing/synthetic-images.js';
import { ROOT } from './support/product.js';
import { emitResult, isQuick, loadAverages, median, type Figure } from './support/result.js';

const quick = isQuick();
const runtimesIndex = process.argv.indexOf('--runtimes');
const runtimes = (runtimesIndex >= 0 ? process.argv[runtimesIndex + 1] : 'onnxruntime,tfjs').split(',') as ('onnxruntime' | 'tfjs')[];
const SIZE = 224;
const IMAGE_VALUES = SIZE * SIZE * 3;
const BATCH_SIZES = quick ? [1, 8] : [1, 8, 32];
/** Images timed per batch size and runtime; tfjs wasm is about 4× slower, so it gets fewer. */
const IMAGES = { onnxruntime: quick ? 16 : 128, tfjs: quick ? 8 : 32 };
const LATENCY_RUNS = quick ? 3 : 20;
const DATASETS = join(ROOT, '..', 'shared', 'datasets');

function photoFiles(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return photoFiles(path);
    return /\.(jpe?g|png)$/i.test(entry.name) ? [path] : [];
  });
}

const notes: string[] = [];
const files = photoFiles(DATASETS);
const photos = files.length ? files.map((file) => readFileSync(file)) : [];
if (!photos.length) notes.push(`no photos under ${DATASETS}: generated 224-px images were used`);

/** Every photo decoded and resized to 224×224, as [0, 1] floats (the backbone's input range). */
async function preparedImages(): Promise<Float32Array[]> {
  if (!photos.length) {
    const random = new SeededRandom(1);
    return Array.from({ length: 32 }, () => Float32Array.from(colouredSquareImage([200, 40, 40], SIZE, random).pixels, (value) => value / 255));
  }
  return Promise.all(photos.map(async (photo) => Float32Array.from((await decodeResized(photo, { width: SIZE, height: SIZE }, 3)).pixels, (value) => value / 255)));
}

function batchOf(images: readonly Float32Array[], start: number, count: number): Float32Array {
  const batch = new Float32Array(count * IMAGE_VALUES);
  for (let index = 0; index < count; index++) batch.set(images[(start + index) % images.length], index * IMAGE_VALUES);
  return batch;
}

/** Images/s over wall time, and images per CPU-second of this process (all its threads): what a load-free machine gives per core. */
async function throughput(extractor: FeatureExtractor, images: readonly Float32Array[], batchSize: number, total: number): Promise<{ perSecond: number; perCpuSecond: number }> {
  await extractor.run(batchOf(images, 0, batchSize), batchSize);
  const batches = Math.max(1, Math.round(total / batchSize));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let index = 0; index < batches; index++) await extractor.run(batchOf(images, index * batchSize, batchSize), batchSize);
  const cpu = process.cpuUsage(cpuBefore);
  const count = batches * batchSize;
  return { perSecond: count / ((performance.now() - started) / 1000), perCpuSecond: count / ((cpu.user + cpu.system) / 1e6) };
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

const loadBefore = loadavg();
const backend = await selectBackend('wasm');
const model = await loadNsfwjsMobileNetV2();
const images = await preparedImages();
const figures: Record<string, Figure> = {};
if (photos.length) {
  figures['one photo, JPEG decoding + resizing to 224 px alone'] = {
    value: await medianMilliseconds(LATENCY_RUNS, (index) => decodeResized(photos[index % photos.length], { width: SIZE, height: SIZE }, 3)),
    unit: 'ms',
    better: 'lower',
  };
}
const info: Record<string, string> = { backend, cores: String(availableParallelism()), photos: String(photos.length) };

for (const runtime of runtimes) {
  const extractor = await createOnnxFeatureExtractor(model, ['out_relu'], { runtime });
  if (extractor.runtime !== runtime) {
    notes.push(`${runtime} could not be used (${extractor.fallbackReason ?? 'unknown reason'}); not measured`);
    continue;
  }
  const label = runtime === 'onnxruntime' ? `onnxruntime-node (${availableParallelism()} images in parallel)` : `tfjs ${backend}`;
  for (const batchSize of BATCH_SIZES) {
    const measured = await throughput(extractor, images, batchSize, IMAGES[runtime]);
    figures[`MobileNetV2 224 px to out_relu, ${label}, batch ${batchSize}`] = {
      value: measured.perSecond,
      unit: 'images/s',
      better: 'higher',
      ...(runtime === 'onnxruntime' ? { goal: 40 } : {}),
    };
    if (batchSize === 8) {
      figures[`MobileNetV2 224 px to out_relu, ${label}, batch 8, per CPU-second`] = { value: measured.perCpuSecond, unit: 'images/CPU-s', better: 'higher' };
    }
  }
  figures[`one image, forward pass, ${label}`] = {
    value: await medianMilliseconds(LATENCY_RUNS, (index) => extractor.run(images[index % images.length], 1)),
    unit: 'ms',
    better: 'lower',
  };
  await extractor.dispose();
  if (runtime === 'onnxruntime' && !quick) {
    // The default splits a batch into single-image runs, one per core; this is the whole batch in one run.
    const wholeBatch = await createOnnxFeatureExtractor(model, ['out_relu'], { runtime, parallelRuns: 1, imagesPerRun: 32 });
    figures['MobileNetV2 224 px to out_relu, onnxruntime-node, batch 32 as one single-threaded run'] = {
      value: (await throughput(wholeBatch, images, 32, IMAGES[runtime])).perSecond,
      unit: 'images/s',
      better: 'higher',
    };
    await wholeBatch.dispose();
  }
}

if (photos.length) {
  // A photo classifier as diyml deploys one: the backbone pooled, a softmax head, saved and loaded like a trained model.
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'embedding_pool' }).apply(model.getLayer('out_relu').output) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ name: 'head', units: 10, activation: 'softmax' }).apply(pooled) as tfl.SymbolicTensor;
  const classifier = tfl.model({ inputs: model.inputs, outputs: head });
  const labels = Array.from({ length: 10 }, (_, index) => `label ${index}`);
  const serialized = await serializeModel(classifier, { format: 'diyml', version: 1, architecture: 'transfer', task: 'classification', labels, imageSize: { width: SIZE, height: SIZE }, channels: 3, fit: 'resize', inputRange: [0, 1] });
  for (const runtime of runtimes) {
    const deployed = await loadModel(serialized, { runtime });
    if (deployed.runtime !== runtime) continue;
    await deployed.predict(photos[0]);
    figures[`predict one photo (loadModel().predict: JPEG decoding, MobileNetV2, softmax head), ${runtime === 'onnxruntime' ? 'onnxruntime-node' : `tfjs ${backend}`}`] = {
      value: await medianMilliseconds(LATENCY_RUNS, (index) => deployed.predict(photos[index % photos.length])),
      unit: 'ms',
      better: 'lower',
    };
    deployed.dispose();
  }
}
model.dispose();

notes.push(`load average before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())} (1/5/15 min) on ${availableParallelism()} cores: other work competed for the cores when above`);
emitResult('backbone-embedding', figures, notes, info);
