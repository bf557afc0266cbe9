/**
 * Training throughput of the libs/ml engine (no HTTP), and the tfjs backends against each other on the same
 * model in the same run: the default small-cnn on 28×28 grayscale generated images (batches of 32, no
 * augmentation) on every backend that loads (wasm, cpu, and tensorflow when the optional tfjs-node is installed),
 * then tiny-detector on 64×64 RGB scenes on wasm. Images/s is the median of the epochs after the first (which
 * includes warm-up); the cpu backend is much slower, so it trains on fewer images.
 *
 * Run: npx tsx bench/ml-training-throughput.ts [--quick | --smoke] [--backends wasm,cpu,tensorflow]
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { SeededRandom, train, type BackendName, type TrainingDataset } from '@diyml/ml';
import { barsImage, squareScene } from '@diyml/ml/testing/synthetic-images.js';
import { emitResult, loadAverages, median, sized, type Figure } from './support/result.js';

const backendsIndex = process.argv.indexOf('--backends');
const backends = (backendsIndex >= 0 ? process.argv[backendsIndex + 1] : 'tensorflow,wasm,cpu').split(
  ',',
) as BackendName[];
/**
 * Images per epoch and epochs, per backend: enough batches for a steady rate, few on the slow cpu backend. Two epochs
 * at least: the first one (warm-up) is not counted.
 */
const CLASSIFICATION_SIZE = sized<Record<BackendName, { images: number; epochs: number }>>({
  full: { tensorflow: { images: 2048, epochs: 3 }, wasm: { images: 2048, epochs: 3 }, cpu: { images: 256, epochs: 3 } },
  quick: { tensorflow: { images: 512, epochs: 2 }, wasm: { images: 512, epochs: 2 }, cpu: { images: 128, epochs: 2 } },
  smoke: { tensorflow: { images: 64, epochs: 2 }, wasm: { images: 64, epochs: 2 }, cpu: { images: 32, epochs: 2 } },
});
const DETECTION_SIZE = sized({
  full: { images: 256, epochs: 3 },
  quick: { images: 64, epochs: 2 },
  smoke: { images: 16, epochs: 2 },
});

const orientations = ['horizontal', 'vertical'] as const;
const classification = (count: number): TrainingDataset => {
  const random = new SeededRandom(1);
  return {
    task: 'classification',
    labels: [...orientations],
    examples: Array.from({ length: count }, (_, i) => ({
      image: barsImage(orientations[i % 2], 28, random),
      label: i % 2,
    })),
  };
};
const detection = (count: number): TrainingDataset => {
  const random = new SeededRandom(1);
  const colours: [number, number, number][] = [
    [220, 30, 30],
    [30, 30, 220],
  ];
  return {
    task: 'detection',
    labels: ['red', 'blue'],
    examples: Array.from({ length: count }, () => squareScene(colours, 64, random)),
  };
};

/** Trains and returns the backend actually used and its steady-state images/s. */
async function measure(
  backend: BackendName,
  dataset: TrainingDataset,
  imageSize: number,
  channels: 1 | 3,
  epochs: number,
) {
  const result = await train(dataset, {
    backend,
    imageSize,
    channels,
    epochs,
    batchSize: 32,
    validationSplit: 0,
    augmentation: false,
    seed: 1,
  });
  const rates = result.history.slice(1).map((report) => report.imagesPerSecond);
  return { backend: result.backend, imagesPerSecond: median(rates) };
}

const loadBefore = loadavg();
const figures: Record<string, Figure> = {};
const notes: string[] = [];
/** tfjs-node is an optional dependency: without it, 'tensorflow' would silently fall back to another backend. */
const installed = (backend: BackendName) => {
  if (backend !== 'tensorflow') return true;
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
};

for (const backend of backends) {
  if (!installed(backend)) {
    notes.push(`backend ${backend} is not installed here (optional @tensorflow/tfjs-node); not measured`);
    continue;
  }
  const { images, epochs } = CLASSIFICATION_SIZE[backend];
  const measured = await measure(backend, classification(images), 28, 1, epochs);
  if (measured.backend !== backend) {
    notes.push(`backend ${backend} is not available here (training fell back to ${measured.backend}); not measured`);
    continue;
  }
  figures[`small-cnn 28×28 grayscale, ${backend} backend`] = {
    value: measured.imagesPerSecond,
    unit: 'images/s',
    better: 'higher',
    ...(backend === 'cpu' ? {} : { goal: 2000 }),
  };
  notes.push(`${backend}: ${images} images × ${epochs} epochs`);
}
const detector = await measure('wasm', detection(DETECTION_SIZE.images), 64, 3, DETECTION_SIZE.epochs);
figures[`tiny-detector 64×64 RGB, ${detector.backend} backend`] = {
  value: detector.imagesPerSecond,
  unit: 'images/s',
  better: 'higher',
};
notes.push(`tiny-detector: ${DETECTION_SIZE.images} images × ${DETECTION_SIZE.epochs} epochs`);
notes.push(
  `batches of 32, no augmentation; load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
);

emitResult('ml-training-throughput', figures, notes);
