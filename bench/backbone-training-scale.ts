/**
 * Training on 2,000 photos once their embeddings exist (issue 12, deliver 5: ≤ 2 minutes on this 2-core machine),
 * through the product over HTTP as a user would, with default settings (a head on the frozen pretrained backbone).
 *
 * Classification: 2,000 photo-sized JPEGs uploaded in batches, the background embeddings awaited, then training
 * queued. Reports the upload-to-embedded time and rate, training from queued to completed (goal ≤ 120 s), the time of
 * its epochs and the api's peak resident memory. The photos are distinct variants (seeded random crops, flips, colour
 * and scale jitter) of the 20 Hemlock / Japanese Cherry photos of ../shared/datasets/custom-vision-samples, each with
 * its own content hash: accuracy is not measured here, as variants of a few photos say little about it
 * (bench/real-photos.ts measures it on held-out photos).
 *
 * Detection: 2,000 such variants of the 40 fork / scissors photos of the quickstart, each crop keeping the whole
 * object, the quickstart's box moved with the crop and flip, uploaded in batches and their boxes labelled. A detection
 * project computes no feature maps in the background: its first iteration computes them (and caches them), so the
 * goal figure is a second iteration on the same photos, from the cached maps.
 *
 * Run: npx tsx bench/backbone-training-scale.ts [--quick | --smoke] [--task classification|detection|both] [--images N]
 * (default both tasks; --images overrides the photo count of the mode)
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { SeededRandom, type Box } from '@diyml/ml';
import { detectionSamples } from './support/detection-samples.js';
import { BenchClient, startProduct, until, type RunningProduct } from './support/product.js';
import { emitResult, isSmoke, loadAverages, numberOption, sized, type Figure } from './support/result.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'custom-vision-samples', 'classification');
const LABELS = ['Hemlock', 'Japanese Cherry'];
/** Smoke: the 5 photos per label classification needs, the 15 boxes per label detection needs. */
const PHOTOS = numberOption('images', sized({ full: 2000, quick: 300, smoke: 10 }));
const DETECTION_PHOTOS = numberOption('images', sized({ full: 2000, quick: 300, smoke: 30 }));
/** Added to the detection iterations' settings: --smoke trains one epoch. */
const DETECTION_MODE_CONFIG = sized<Record<string, unknown>>({ full: {}, quick: {}, smoke: { epochs: 1 } });
const TASKS = ['classification', 'detection', 'both'] as const;
const TASK = taskOption();
const UPLOAD_BATCH = 100;
const SEED = 12;
/** How many photos sharp makes at once (it works on libuv's thread pool). */
const GENERATION_CONCURRENCY = 4;

interface SourcePhoto {
  label: string;
  pixels: Buffer;
  width: number;
  height: number;
  /** Detection: the object's box, in fractions of the photo. */
  box?: Box;
}

interface Photo {
  name: string;
  label: string;
  bytes: Uint8Array;
  /** Detection: the object's box in this variant. */
  box?: Box;
}

function taskOption(): (typeof TASKS)[number] {
  const index = process.argv.indexOf('--task');
  if (index < 0) return 'both';
  const task = process.argv[index + 1] as (typeof TASKS)[number];
  if (!TASKS.includes(task)) throw new Error(`--task must be one of ${TASKS.join(', ')}`);
  return task;
}

/** Each sample photo decoded once to raw RGB, as every variant of it starts from its pixels. */
async function sourcePhotos(): Promise<SourcePhoto[]> {
  const sources: SourcePhoto[] = [];
  for (const label of LABELS) {
    const directory = join(SAMPLES, label);
    for (const file of readdirSync(directory)
      .filter((name) => /\.jpe?g$/i.test(name))
      .sort()) {
      const { data, info } = await sharp(join(directory, file))
        .rotate()
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      sources.push({ label, pixels: data, width: info.width, height: info.height });
    }
  }
  return sources;
}

/** A random offset of a crop of `crop` pixels along a side of `side` pixels that keeps [from, to) inside it. */
function cropStart(random: SeededRandom, side: number, crop: number, from: number, to: number): number {
  const lowest = Math.max(0, to - crop);
  const highest = Math.min(from, side - crop);
  return lowest + random.integer(highest - lowest + 1);
}

/**
 * A photo-like variant of a sample: a random crop of 45–100 % of its sides (never smaller than its box, which it
 * keeps whole), mirrored half the time, brightness, saturation and hue jittered, scaled to 480–1024 px wide, a JPEG
 * of quality 85; with the box moved as the photo was.
 */
async function variant(source: SourcePhoto, random: SeededRandom): Promise<{ bytes: Uint8Array; box?: Box }> {
  const side = random.uniform(0.45, 1);
  const boxPixels = source.box && {
    left: Math.floor(source.box.x * source.width),
    top: Math.floor(source.box.y * source.height),
    right: Math.ceil((source.box.x + source.box.width) * source.width),
    bottom: Math.ceil((source.box.y + source.box.height) * source.height),
  };
  const width = Math.max(64, Math.floor(source.width * side), boxPixels ? boxPixels.right - boxPixels.left : 0);
  const height = Math.max(
    64,
    Math.floor(source.height * side * random.uniform(0.85, 1.15)),
    boxPixels ? boxPixels.bottom - boxPixels.top : 0,
  );
  const cropWidth = Math.min(width, source.width);
  const cropHeight = Math.min(height, source.height);
  // Without a box any offset will do, drawn as before boxes were kept (the classification photos stay the same).
  const left = cropStart(random, source.width, cropWidth, boxPixels?.left ?? source.width, boxPixels?.right ?? 0);
  const top = cropStart(random, source.height, cropHeight, boxPixels?.top ?? source.height, boxPixels?.bottom ?? 0);
  const outputWidth = Math.round(random.uniform(480, 1024));
  const flip = random.next() < 0.5;
  const brightness = random.uniform(0.8, 1.2);
  const saturation = random.uniform(0.7, 1.3);
  const hue = Math.round(random.uniform(-15, 15));
  let image = sharp(source.pixels, { raw: { width: source.width, height: source.height, channels: 3 } })
    .extract({ left, top, width: cropWidth, height: cropHeight })
    .resize({ width: outputWidth });
  if (flip) image = image.flop();
  const bytes = new Uint8Array(await image.modulate({ brightness, saturation, hue }).jpeg({ quality: 85 }).toBuffer());
  if (!boxPixels) return { bytes };
  const x = (boxPixels.left - left) / cropWidth;
  const boxWidth = (boxPixels.right - boxPixels.left) / cropWidth;
  return {
    bytes,
    box: {
      x: flip ? 1 - x - boxWidth : x,
      y: (boxPixels.top - top) / cropHeight,
      width: boxWidth,
      height: (boxPixels.bottom - boxPixels.top) / cropHeight,
    },
  };
}

/** Each photo of the quickstart's detection samples decoded once to raw RGB, with its (one) box. */
async function detectionSourcePhotos(): Promise<{ labels: string[]; sources: SourcePhoto[] }> {
  const { labels, photos: samples } = detectionSamples();
  const sources: SourcePhoto[] = [];
  for (const sample of samples) {
    const { data, info } = await sharp(sample.bytes).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const [{ label, ...box }] = sample.boxes;
    sources.push({ label: labels[label], pixels: data, width: info.width, height: info.height, box });
  }
  return { labels, sources };
}

/** `count` distinct variants of `sources`, alternating the labels; the same on every run (seeded). */
async function photos(count: number, labels: readonly string[], sources: SourcePhoto[]): Promise<Photo[]> {
  const byLabel = labels.map((label) => sources.filter((source) => source.label === label));
  const random = new SeededRandom(SEED);
  // The random draws are made in order, so the photos do not depend on how sharp schedules the work.
  const plans = Array.from({ length: count }, (_, index) => {
    const candidates = byLabel[index % labels.length];
    return {
      index,
      source: candidates[random.integer(candidates.length)],
      random: new SeededRandom(random.nextSeed()),
    };
  });
  const made: Photo[] = new Array<Photo>(count);
  const queue = [...plans];
  await Promise.all(
    Array.from({ length: GENERATION_CONCURRENCY }, async () => {
      for (let plan = queue.shift(); plan; plan = queue.shift()) {
        made[plan.index] = {
          name: `${plan.source.label.toLowerCase().replace(/\s+/g, '-')}-${plan.index}.jpg`,
          label: plan.source.label,
          ...(await variant(plan.source, plan.random)),
        };
      }
    }),
  );
  const hashes = new Set(made.map((photo) => createHash('sha256').update(photo.bytes).digest('hex')));
  if (hashes.size !== count) throw new Error(`only ${hashes.size} of ${count} generated photos are distinct`);
  return made;
}

type Iteration = {
  id: string;
  status: string;
  architecture: string;
  history: { durationMs: number }[];
  imageCount: number;
  embeddings?: { computed: number; reused: number };
  metrics?: { map50?: number } | null;
  error?: unknown;
  queuedAt: string;
  startedAt?: string;
  completedAt?: string;
};

/**
 * Where an iteration's time went, from the api's own times: queued → started (the job reads the photos and the cached
 * maps and hands them to the training thread), the epochs, and the rest (decoding and preparing in the thread, the
 * final validation, storing the model).
 */
function timeSpent({ queuedAt, startedAt, completedAt, history }: Iteration): string {
  if (!startedAt || !completedAt) return 'not recorded';
  const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;
  const epochs = history.reduce((sum, epoch) => sum + epoch.durationMs, 0) / 1000;
  return `queued → started ${seconds(queuedAt, startedAt).toFixed(1)} s, epochs ${epochs.toFixed(1)} s, the rest ${(seconds(startedAt, completedAt) - epochs).toFixed(1)} s`;
}

/** Samples the api's resident memory every 200 ms; `peak()` is the largest seen. */
function watchMemory(product: RunningProduct) {
  let peak = product.rssMiB();
  const timer = setInterval(() => {
    peak = Math.max(peak, product.rssMiB());
  }, 200);
  return {
    peak: () => Math.max(peak, product.rssMiB()),
    stop: () => clearInterval(timer),
  };
}

/** An iteration queued with `trainingConfig` and awaited: it, and its wall and api CPU seconds from queue to end. */
async function train(
  product: RunningProduct,
  client: BenchClient,
  projectId: string,
  trainingConfig: Record<string, unknown>,
): Promise<{ iteration: Iteration; seconds: number; cpuSeconds: number; epochSeconds: number }> {
  const queuedAt = performance.now();
  const cpuBefore = product.cpuMs();
  const queued = await client.json<{ id: string }>('POST', `/v1/projects/${projectId}/iterations`, { trainingConfig });
  const iteration = await until(
    () => client.json<Iteration>('GET', `/v1/projects/${projectId}/iterations/${queued.id}`),
    (value) => ['completed', 'failed', 'cancelled'].includes(value.status),
  );
  const seconds = (performance.now() - queuedAt) / 1000;
  const cpuSeconds = (product.cpuMs() - cpuBefore) / 1000;
  if (iteration.status !== 'completed')
    throw new Error(`training ended ${iteration.status}: ${JSON.stringify(iteration.error)}`);
  const epochSeconds = iteration.history.reduce((sum, epoch) => sum + epoch.durationMs, 0) / 1000;
  return { iteration, seconds, cpuSeconds, epochSeconds };
}

type Measured = { figures: Record<string, Figure>; notes: string[] };

async function classification(product: RunningProduct): Promise<Measured> {
  const generationStarted = performance.now();
  const all = await photos(PHOTOS, LABELS, await sourcePhotos());
  const generationSeconds = (performance.now() - generationStarted) / 1000;
  const megabytes = all.reduce((sum, photo) => sum + photo.bytes.byteLength, 0) / 2 ** 20;

  const client = await BenchClient.register(product.base);
  const projectId = await client.createProject('Trees at scale', LABELS);
  // --smoke trains one epoch: the defaults' epochs time the head, they take no other path.
  if (isSmoke()) await client.json('PUT', `/v1/projects/${projectId}/training-config`, { epochs: 1 });
  const memory = watchMemory(product);
  try {
    const uploadStarted = performance.now();
    for (const label of LABELS) {
      const ofLabel = all.filter((photo) => photo.label === label);
      for (let start = 0; start < ofLabel.length; start += UPLOAD_BATCH) {
        const items = await client.upload(projectId, ofLabel.slice(start, start + UPLOAD_BATCH), { label });
        const refused = items.filter((item) => item.status !== 'created');
        if (refused.length > 0) throw new Error(`upload refused ${JSON.stringify(refused.slice(0, 3))}`);
      }
    }
    const uploadSeconds = (performance.now() - uploadStarted) / 1000;
    await until(
      () => client.json<{ items: { imageCount: number }[] }>('GET', `/v1/projects/${projectId}/embeddings`),
      (cache) => cache.items.some((table) => table.imageCount >= PHOTOS),
    );
    const embeddedSeconds = (performance.now() - uploadStarted) / 1000;
    const embeddingPeak = memory.peak();

    const {
      iteration,
      seconds: trainingSeconds,
      cpuSeconds: trainingCpuSeconds,
      epochSeconds,
    } = await train(product, client, projectId, {});

    return {
      figures: {
        [`upload of ${PHOTOS} photos (${megabytes.toFixed(0)} MB, batches of ${UPLOAD_BATCH})`]: {
          value: uploadSeconds,
          unit: 's',
          better: 'lower',
        },
        [`background embeddings of ${PHOTOS} photos, upload start to done`]: {
          value: embeddedSeconds,
          unit: 's',
          better: 'lower',
        },
        'background embedding rate, upload start to done': {
          value: PHOTOS / embeddedSeconds,
          unit: 'photos/s',
          better: 'higher',
        },
        [`training on ${PHOTOS} photos, queue to completed (after embeddings)`]: {
          value: trainingSeconds,
          unit: 's',
          better: 'lower',
          goal: 120,
        },
        // CPU time depends little on what else runs on the machine, unlike the wall-clock figure above.
        'api CPU time (user + system), training queue to completed': {
          value: trainingCpuSeconds,
          unit: 's',
          better: 'lower',
        },
        [`training epochs (${iteration.history.length})`]: { value: epochSeconds, unit: 's', better: 'lower' },
        'peak api RSS while uploading and embedding': { value: embeddingPeak, unit: 'MiB', better: 'lower' },
        'peak api RSS, whole run': { value: memory.peak(), unit: 'MiB', better: 'lower' },
      },
      notes: [
        `${PHOTOS} distinct JPEG variants (${(megabytes / PHOTOS).toFixed(2)} MB on average) of 20 sample photos, made in ${generationSeconds.toFixed(1)} s before the api is used; accuracy is not measured here`,
        `architecture ${iteration.architecture}, ${iteration.imageCount} images; embeddings computed ${iteration.embeddings?.computed ?? '–'}, reused ${iteration.embeddings?.reused ?? '–'}`,
      ],
    };
  } finally {
    memory.stop();
  }
}

/**
 * Detection: the variants uploaded and their boxes labelled in batches, a first iteration (which computes and
 * caches the feature maps), then a second on the same photos and settings, from the cached maps: the goal figure.
 */
async function detection(product: RunningProduct): Promise<Measured> {
  const generationStarted = performance.now();
  const { labels, sources } = await detectionSourcePhotos();
  const all = await photos(DETECTION_PHOTOS, labels, sources);
  const generationSeconds = (performance.now() - generationStarted) / 1000;
  const megabytes = all.reduce((sum, photo) => sum + photo.bytes.byteLength, 0) / 2 ** 20;

  const client = await BenchClient.register(product.base);
  const project = await client.json<{ id: string }>('POST', '/v1/projects', {
    name: 'Cutlery at scale',
    type: 'detection',
  });
  for (const label of labels) await client.json('POST', `/v1/projects/${project.id}/labels`, { name: label });
  const memory = watchMemory(product);
  try {
    const uploadStarted = performance.now();
    for (let start = 0; start < all.length; start += UPLOAD_BATCH) {
      const batch = all.slice(start, start + UPLOAD_BATCH);
      const items = await client.upload(project.id, batch);
      const refused = items.filter((item) => item.status !== 'created');
      if (refused.length > 0) throw new Error(`upload refused ${JSON.stringify(refused.slice(0, 3))}`);
      await client.json('POST', `/v1/projects/${project.id}/images/labels`, {
        items: items.map((item, index) => ({
          imageId: item.id,
          regions: [{ label: batch[index].label, ...batch[index].box }],
        })),
      });
    }
    const uploadSeconds = (performance.now() - uploadStarted) / 1000;
    const uploadPeak = memory.peak();

    const first = await train(product, client, project.id, DETECTION_MODE_CONFIG);
    const second = await train(product, client, project.id, DETECTION_MODE_CONFIG);
    const count = DETECTION_PHOTOS;
    return {
      figures: {
        [`detection: upload and box labelling of ${count} photos (${megabytes.toFixed(0)} MB, batches of ${UPLOAD_BATCH})`]:
          { value: uploadSeconds, unit: 's', better: 'lower' },
        [`detection: first iteration on ${count} photos (computes the feature maps), queue to completed`]: {
          value: first.seconds,
          unit: 's',
          better: 'lower',
        },
        'detection: first iteration, api CPU time': { value: first.cpuSeconds, unit: 's', better: 'lower' },
        [`detection: first iteration, epochs (${first.iteration.history.length})`]: {
          value: first.epochSeconds,
          unit: 's',
          better: 'lower',
        },
        [`detection: training on ${count} photos, queue to completed (feature maps cached)`]: {
          value: second.seconds,
          unit: 's',
          better: 'lower',
          goal: 120,
        },
        'detection: api CPU time, training queue to completed (feature maps cached)': {
          value: second.cpuSeconds,
          unit: 's',
          better: 'lower',
        },
        [`detection: training epochs (${second.iteration.history.length}, feature maps cached)`]: {
          value: second.epochSeconds,
          unit: 's',
          better: 'lower',
        },
        'detection: peak api RSS while uploading': { value: uploadPeak, unit: 'MiB', better: 'lower' },
        'detection: peak api RSS, whole run': { value: memory.peak(), unit: 'MiB', better: 'lower' },
      },
      notes: [
        `detection: ${count} distinct JPEG variants (${(megabytes / count).toFixed(2)} MB on average) of the quickstart's 40 fork / scissors photos, each keeping its whole object, made in ${generationSeconds.toFixed(1)} s before the api is used; accuracy is not measured here (bench/real-photos-detection.ts does)`,
        // Validation photos are variants of the training photos' sources: a check that training worked, not accuracy.
        `detection: validation mAP@0.5 of the first iteration ${first.iteration.metrics?.map50?.toFixed(3) ?? '–'}, of the second ${second.iteration.metrics?.map50?.toFixed(3) ?? '–'}`,
        `detection: where the time went, first iteration: ${timeSpent(first.iteration)}; second: ${timeSpent(second.iteration)}`,
        `detection: architecture ${second.iteration.architecture}, ${second.iteration.imageCount} images; feature maps computed/reused by the first iteration ${first.iteration.embeddings?.computed ?? '–'}/${first.iteration.embeddings?.reused ?? '–'}, by the second ${second.iteration.embeddings?.computed ?? '–'}/${second.iteration.embeddings?.reused ?? '–'}`,
      ],
    };
  } finally {
    memory.stop();
  }
}

const loadBefore = loadavg();
const product = await startProduct({ env: { BLOB_FSYNC: 'false' } });
try {
  const figures: Record<string, Figure> = {};
  const notes: string[] = [];
  if (TASK !== 'detection') {
    const measured = await classification(product);
    Object.assign(figures, measured.figures);
    notes.push(...measured.notes);
  }
  if (TASK !== 'classification') {
    const measured = await detection(product);
    Object.assign(figures, measured.figures);
    notes.push(...measured.notes);
  }
  emitResult('backbone-training-scale', figures, [
    ...notes,
    `load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
  ]);
} finally {
  await product.stop();
}
