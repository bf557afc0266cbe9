/**
 * Self time per kernel (time inside a kernel minus the kernels it runs itself) over the second of two epochs of
 * small-cnn training on random 28×28 grayscale images (10 classes), through train().
 * Run: npx tsx bench/ml-kernel-profile.ts [wasm|cpu] [batchSize=32] [images=3200]
 * SHAPES=Conv2D,Sum splits those kernels by input shapes; TRACE=Identity prints where that kernel is called from.
 * AUG=1 turns augmentation on.
 */
import { loadavg } from 'node:os';
import { SeededRandom, selectBackend, train, type BackendName, type TrainingDataset } from '@diyml/ml';
import { profileKernelSelfTime } from './support/kernel-self-time.js';

const backend = (process.argv[2] ?? 'wasm') as BackendName;
const batchSize = Number(process.argv[3] ?? 32);
const count = Number(process.argv[4] ?? 3200);
await selectBackend(backend);

let traceCount = 0;
const traces = new Map<string, number>();
process.on('exit', () => {
  for (const [stack, calls] of traces) console.log(calls, stack);
});
const selfTime = profileKernelSelfTime(backend, (kernelName) => {
  if (process.env.TRACE === kernelName && traceCount++ < 60) {
    const frames = (new Error().stack ?? '')
      .split('\n')
      .slice(3, 15)
      .map((line) =>
        line
          .trim()
          .replace(/^at /, '')
          .replace(/\(.*node_modules\/@tensorflow\//, '(')
          .slice(0, 90),
      );
    traces.set(frames.join(' < '), (traces.get(frames.join(' < ')) ?? 0) + 1);
  }
});

const random = new SeededRandom(1);
const examples = Array.from({ length: count }, (_, i) => {
  const pixels = new Uint8Array(784);
  for (let p = 0; p < 784; p++) pixels[p] = random.integer(256);
  return { image: { pixels, width: 28, height: 28, channels: 1 as const }, label: i % 10 };
});
const dataset: TrainingDataset = {
  task: 'classification',
  labels: Array.from({ length: 10 }, (_, i) => `c${i}`),
  examples,
};
let cpuAtEpoch = process.cpuUsage();
const result = await train(
  dataset,
  {
    backend,
    imageSize: 28,
    channels: 1,
    epochs: 2,
    batchSize,
    validationSplit: 0,
    augmentation: process.env.AUG === '1',
    seed: 1,
  },
  {
    onEpochEnd: (report) => {
      if (report.epoch === 1) {
        selfTime.clear();
        cpuAtEpoch = process.cpuUsage();
      }
    },
  },
);
const epoch = result.history[1];
const cpuUsed = process.cpuUsage(cpuAtEpoch);
const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
const trainingMs = (count / epoch.imagesPerSecond) * 1000;
const total = [...selfTime.values()].reduce((sum, e) => sum + e.ms, 0);
console.log(
  `${backend} batch ${batchSize}: ${epoch.imagesPerSecond.toFixed(0)} images/s, ${(count / cpuSeconds).toFixed(0)} per CPU-second (load ${loadavg()[0].toFixed(1)}); epoch ${trainingMs.toFixed(0)} ms, kernels ${total.toFixed(0)} ms (${((total / trainingMs) * 100).toFixed(0)}%)`,
);
for (const [name, { ms, calls }] of [...selfTime].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
  console.log(
    `${name.padEnd(60)} ${ms.toFixed(1).padStart(8)} ms ${((ms / trainingMs) * 100).toFixed(1).padStart(5)}% ${String(calls).padStart(7)} calls ${((ms / calls) * 1000).toFixed(1).padStart(8)} µs/call`,
  );
}
