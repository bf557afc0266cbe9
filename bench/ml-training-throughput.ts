/**
 * Training throughput of the default architectures on generated images.
 * Run: npx tsx bench/ml-training-throughput.ts [wasm|cpu|tensorflow]
 */
import { SeededRandom, train, type BackendName, type TrainingDataset } from '../libs/ml/src/index.js';
import { barsImage, squareScene } from '../libs/ml/src/testing/synthetic-images.js';

const backend = (process.argv[2] ?? 'wasm') as BackendName;
const random = new SeededRandom(1);
const orientations = ['horizontal', 'vertical'] as const;

const classification: TrainingDataset = {
  task: 'classification',
  labels: [...orientations],
  examples: Array.from({ length: 1024 }, (_, i) => ({ image: barsImage(orientations[i % 2], 28, random), label: i % 2 })),
};
const detection: TrainingDataset = {
  task: 'detection',
  labels: ['red', 'blue'],
  examples: Array.from({ length: 256 }, () =>
    squareScene(
      [
        [220, 30, 30],
        [30, 30, 220],
      ],
      64,
      random,
    ),
  ),
};

for (const [name, dataset, imageSize, channels] of [
  ['small-cnn 28×28 grayscale', classification, 28, 1],
  ['tiny-detector 64×64 RGB', detection, 64, 3],
] as const) {
  const result = await train(dataset, { backend, imageSize, channels, epochs: 3, batchSize: 32, validationSplit: 0, augmentation: false, seed: 1 });
  const steadyState = result.history.slice(1).map((report) => report.imagesPerSecond);
  const median = steadyState.sort((a, b) => a - b)[Math.floor(steadyState.length / 2)];
  console.log(`${result.backend} ${name}: ${median.toFixed(0)} images/s (epochs after the first)`);
}
