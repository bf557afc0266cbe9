/**
 * Fashion-MNIST through the libs/ml engine: trains small-cnn with train() on the 60,000 training images (28×28
 * grayscale) and evaluates on the 10,000 test images with LoadedModel.predictBatch.
 *
 * Run: npx tsx bench/fashion-mnist-engine.ts [--quick | --smoke] [--backend wasm] [--batch 32] [--epochs 8] [--augmentation false] [--seed 1]
 *
 * Defaults: the product's batch size (32) and learning rate (0.001); no augmentation (the default crops, flips and
 * brightness shifts cost small-cnn about a point of test accuracy on Fashion-MNIST at 10 epochs); 8 epochs.
 * --quick: 1 epoch on the first 6,000 training images (its accuracy is not the model's); --smoke: 1 epoch on 600,
 * tested on the first 500 test images.
 *
 * Needs the Debian package dataset-fashion-mnist (installed with apt-get when missing). Prints one line per epoch, the
 * figures for bench/run.ts (a BENCH_RESULT line) and, last, one line of JSON with every figure. GFLOP/s counts the multiply-adds (2 FLOPs each) of the model's convolutions
 * and dense layers per training image: forward, weight gradients and input gradients (none for the first layer);
 * element-wise work (bias, ReLU, pooling, softmax, the optimizer) is not counted.
 */
import { cpus, loadavg } from 'node:os';
import { loadModel, train, type BackendName, type TrainingDataset } from '@diyml/ml';
import { FASHION_MNIST_LABELS as LABELS, readFashionMnist } from './support/fashion-mnist.js';
import { emitResult, sized } from './support/result.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? process.argv[index + 1] : fallback;
}

interface LayerJson {
  class_name: string;
  config: {
    kernel_size?: number[];
    filters?: number;
    strides?: number[];
    padding?: string;
    units?: number;
    pool_size?: number[];
    batch_input_shape?: (number | null)[];
  };
}

/** Multiply-adds per image of each weight layer, from the saved model's layer configs (a chain of layers). */
function weightLayerMacs(modelJson: string): number[] {
  const topology = JSON.parse(modelJson).modelTopology;
  const layers: LayerJson[] = (topology.model_config ?? topology).config.layers;
  let shape: number[] = [];
  const macs: number[] = [];
  for (const { class_name: kind, config } of layers) {
    if (kind === 'InputLayer') shape = config.batch_input_shape!.slice(1) as number[];
    else if (kind === 'Conv2D' || kind === 'MaxPooling2D') {
      const [kh, kw] = config.kernel_size ?? config.pool_size!;
      const [sh, sw] = config.strides ?? config.pool_size!;
      const [h, w, c] = shape;
      const [oh, ow] =
        config.padding === 'same'
          ? [Math.ceil(h / sh), Math.ceil(w / sw)]
          : [Math.floor((h - kh) / sh) + 1, Math.floor((w - kw) / sw) + 1];
      const outChannels = kind === 'Conv2D' ? config.filters! : c;
      if (kind === 'Conv2D') macs.push(oh * ow * outChannels * kh * kw * c);
      shape = [oh, ow, outChannels];
    } else if (kind === 'Flatten') shape = [shape.reduce((a, b) => a * b, 1)];
    else if (kind === 'Dense') {
      macs.push(shape[0] * config.units!);
      shape = [config.units!];
    } else if (kind !== 'Dropout' && kind !== 'Activation')
      throw new Error(`cannot count the FLOPs of a ${kind} layer`);
  }
  return macs;
}

/** Forward + weight gradient + input gradient (all but the first layer), 2 FLOPs per multiply-add. */
function trainingFlopsPerImage(modelJson: string): number {
  const macs = weightLayerMacs(modelJson);
  return macs.reduce((total, layerMacs, index) => total + 2 * layerMacs * (index === 0 ? 2 : 3), 0);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const backend = option('backend', 'wasm') as BackendName;
const batchSize = Number(option('batch', '32'));
const epochs = Number(option('epochs', sized({ full: '8', quick: '1', smoke: '1' })));
const augmentation = option('augmentation', 'false') === 'true';
const seed = Number(option('seed', '1'));

const trainSet = readFashionMnist('train');
const t10k = readFashionMnist('t10k');
const testCount = sized({ full: t10k.images.length, quick: t10k.images.length, smoke: 500 });
const testSet = { images: t10k.images.slice(0, testCount), labels: t10k.labels.slice(0, testCount) };
const dataset: TrainingDataset = {
  task: 'classification',
  labels: LABELS,
  examples: trainSet.images
    .slice(0, sized({ full: undefined, quick: 6000, smoke: 600 }))
    .map((image, i) => ({ image, label: trainSet.labels[i] })),
};
const loadBefore = loadavg()[0];
console.log(
  `${dataset.examples.length} training, ${testSet.images.length} test images; ${cpus().length} cores, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

/** Process CPU time per epoch: with other work on the machine, images per CPU-second says more than wall time. */
const cpuSecondsPerEpoch: number[] = [];
let cpuMark = process.cpuUsage();
const started = performance.now();
const result = await train(
  dataset,
  { backend, imageSize: 28, channels: 1, epochs, batchSize, validationSplit: 0, augmentation, seed },
  {
    onEpochEnd: (report) => {
      const used = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      cpuSecondsPerEpoch.push((used.user + used.system) / 1e6);
      console.log(
        `epoch ${report.epoch}/${report.epochs}: loss ${report.loss.toFixed(4)}, accuracy ${report.accuracy?.toFixed(4)}, ${report.imagesPerSecond.toFixed(0)} images/s ` +
          `(${(dataset.examples.length / cpuSecondsPerEpoch.at(-1)!).toFixed(0)} per CPU-second), ${(report.durationMs / 1000).toFixed(1)} s, load ${loadavg()[0].toFixed(2)}`,
      );
    },
  },
);
const trainingSeconds = (performance.now() - started) / 1000;

const evaluationStarted = performance.now();
const model = await loadModel(result.model, { backend });
let correct = 0;
try {
  const chunk = 500;
  for (let start = 0; start < testSet.images.length; start += chunk) {
    const predictions = await model.predictBatch(testSet.images.slice(start, start + chunk));
    predictions.forEach((prediction, i) => {
      if (prediction[0].labelIndex === testSet.labels[start + i]) correct++;
    });
  }
} finally {
  model.dispose();
}
const evaluationSeconds = (performance.now() - evaluationStarted) / 1000;

const flopsPerImage = trainingFlopsPerImage(result.model.modelJson);
const imagesPerSecond = median(result.history.map((report) => report.imagesPerSecond));
const imagesPerCpuSecond = median(cpuSecondsPerEpoch.map((seconds) => result.trainCount / seconds));
const figures = {
  benchmark: 'fashion-mnist-engine',
  backend: result.backend,
  architecture: result.architecture,
  batchSize,
  epochs: result.history.length,
  augmentation,
  trainImages: result.trainCount,
  imagesPerSecond: Math.round(imagesPerSecond),
  imagesPerSecondPerEpoch: result.history.map((report) => Math.round(report.imagesPerSecond)),
  trainingMflopsPerImage: Number((flopsPerImage / 1e6).toFixed(3)),
  gflopsPerSecond: Number(((imagesPerSecond * flopsPerImage) / 1e9).toFixed(2)),
  imagesPerCpuSecond: Math.round(imagesPerCpuSecond),
  gflopsPerCpuSecond: Number(((imagesPerCpuSecond * flopsPerImage) / 1e9).toFixed(2)),
  testAccuracy: correct / testSet.images.length,
  trainingSeconds: Number(trainingSeconds.toFixed(1)),
  evaluationSeconds: Number(evaluationSeconds.toFixed(1)),
  wallSeconds: Number((trainingSeconds + evaluationSeconds).toFixed(1)),
  cores: cpus().length,
  loadAverage: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
};
console.log(
  `${figures.backend} ${figures.architecture} batch ${batchSize}: ${figures.imagesPerSecond} images/s (median of epochs), ${figures.gflopsPerSecond} GFLOP/s; ${figures.imagesPerCpuSecond} images per CPU-second; test accuracy ${(figures.testAccuracy * 100).toFixed(2)}%, wall ${figures.wallSeconds} s`,
);
emitResult(
  'fashion-mnist-engine',
  {
    'training images/s': { value: figures.imagesPerSecond, unit: 'images/s', better: 'higher', goal: 2000 },
    'training GFLOP/s': { value: figures.gflopsPerSecond, unit: 'GFLOP/s', better: 'higher' },
    'training images per CPU-second': { value: figures.imagesPerCpuSecond, unit: 'images/s', better: 'higher' },
    'test accuracy': { value: Number((figures.testAccuracy * 100).toFixed(2)), unit: '%', better: 'higher', goal: 90 },
    'training time': { value: figures.trainingSeconds, unit: 's', better: 'lower', goal: 360 },
    'wall time': { value: figures.wallSeconds, unit: 's', better: 'lower' },
  },
  [
    `small-cnn through libs/ml train() on ${figures.trainImages} Fashion-MNIST images, ${figures.epochs} epochs, batch ${batchSize}, augmentation ${augmentation}; test accuracy with LoadedModel.predictBatch on ${testCount} test images`,
    `${figures.trainingMflopsPerImage} MFLOP per training image (forward, weight and input gradients of the conv and dense layers); images/s is the median over epochs`,
    `load average ${figures.loadAverage.join(' → ')} on ${figures.cores} cores (per CPU-second figures are less sensitive to other work)`,
  ],
  { backend: figures.backend },
);
console.log(JSON.stringify(figures));
