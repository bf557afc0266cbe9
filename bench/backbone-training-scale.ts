/**
 * Training on 2,000 photos once their embeddings exist (issue 12, deliver 5: ≤ 2 minutes on this 2-core machine),
 * through the product over HTTP as a user would: a classification project with default settings (a head on the
 * frozen pretrained backbone), 2,000 photo-sized JPEGs uploaded in batches, the background embeddings awaited, then
 * training queued with the defaults. Reports the upload-to-embedded time and rate, training from queued to completed
 * (goal ≤ 120 s), the time of its epochs and the api's peak resident memory. The photos are distinct variants (seeded
 * random crops, flips, colour and scale jitter) of the 20 Hemlock / Japanese Cherry photos of
 * ../shared/datasets/custom-vision-samples, each with its own content hash: accuracy is not measured here, as
 * variants of a few photos say little about it (bench/real-photos.ts measures it on held-out photos).
 *
 * Run: npx tsx bench/backbone-training-scale.ts [--quick | --smoke]
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { SeededRandom } from '@diyml/ml';
import { BenchClient, startProduct, until, type RunningProduct } from './support/product.js';
import { emitResult, isSmoke, loadAverages, sized, type Figure } from './support/result.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'custom-vision-samples', 'classification');
const LABELS = ['Hemlock', 'Japanese Cherry'];
/** Smoke: the 5 photos per label that training needs. */
const PHOTOS = sized({ full: 2000, quick: 300, smoke: 10 });
const UPLOAD_BATCH = 100;
const SEED = 12;
/** How many photos sharp makes at once (it works on libuv's thread pool). */
const GENERATION_CONCURRENCY = 4;

interface SourcePhoto {
  label: string;
  pixels: Buffer;
  width: number;
  height: number;
}

interface Photo {
  name: string;
  label: string;
  bytes: Uint8Array;
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

/**
 * A photo-like variant of a sample: a random crop of 45–100 % of its sides, mirrored half the time, brightness,
 * saturation and hue jittered, scaled to 480–1024 px wide, a JPEG of quality 85.
 */
async function variant(source: SourcePhoto, random: SeededRandom): Promise<Uint8Array> {
  const side = random.uniform(0.45, 1);
  const width = Math.max(64, Math.floor(source.width * side));
  const height = Math.max(64, Math.floor(source.height * side * random.uniform(0.85, 1.15)));
  const cropWidth = Math.min(width, source.width);
  const cropHeight = Math.min(height, source.height);
  const left = random.integer(source.width - cropWidth + 1);
  const top = random.integer(source.height - cropHeight + 1);
  const outputWidth = Math.round(random.uniform(480, 1024));
  const flip = random.next() < 0.5;
  const brightness = random.uniform(0.8, 1.2);
  const saturation = random.uniform(0.7, 1.3);
  const hue = Math.round(random.uniform(-15, 15));
  let image = sharp(source.pixels, { raw: { width: source.width, height: source.height, channels: 3 } })
    .extract({ left, top, width: cropWidth, height: cropHeight })
    .resize({ width: outputWidth });
  if (flip) image = image.flop();
  return new Uint8Array(await image.modulate({ brightness, saturation, hue }).jpeg({ quality: 85 }).toBuffer());
}

/** `count` distinct variants, alternating the labels; the same on every run (seeded). */
async function photos(count: number): Promise<Photo[]> {
  const sources = await sourcePhotos();
  const byLabel = LABELS.map((label) => sources.filter((source) => source.label === label));
  const random = new SeededRandom(SEED);
  // The random draws are made in order, so the photos do not depend on how sharp schedules the work.
  const plans = Array.from({ length: count }, (_, index) => {
    const candidates = byLabel[index % LABELS.length];
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
          bytes: await variant(plan.source, plan.random),
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
  error?: unknown;
};

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

async function measure(product: RunningProduct): Promise<{ figures: Record<string, Figure>; notes: string[] }> {
  const generationStarted = performance.now();
  const all = await photos(PHOTOS);
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

    const queuedAt = performance.now();
    const cpuBefore = product.cpuMs();
    const queued = await client.json<{ id: string }>('POST', `/v1/projects/${projectId}/iterations`, {});
    const iteration = await until(
      () => client.json<Iteration>('GET', `/v1/projects/${projectId}/iterations/${queued.id}`),
      (value) => ['completed', 'failed', 'cancelled'].includes(value.status),
    );
    const trainingSeconds = (performance.now() - queuedAt) / 1000;
    const trainingCpuSeconds = (product.cpuMs() - cpuBefore) / 1000;
    if (iteration.status !== 'completed')
      throw new Error(`training ended ${iteration.status}: ${JSON.stringify(iteration.error)}`);
    const epochSeconds = iteration.history.reduce((sum, epoch) => sum + epoch.durationMs, 0) / 1000;

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

const loadBefore = loadavg();
const product = await startProduct({ env: { BLOB_FSYNC: 'false' } });
try {
  const { figures, notes } = await measure(product);
  emitResult('backbone-training-scale', figures, [
    ...notes,
    `load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
  ]);
} finally {
  await product.stop();
}
