/**
 * Where a detection head's epoch goes: trains the default 'backbone-detector' (MobileNetV2 feature maps, the project
 * defaults: batch 32, validation split 0.2, augmentation) on the Custom Vision quickstart's fork and scissors photos
 * 1–15 through train(), and reports for the last epoch the CPU time, the kernels' self time (time inside a kernel
 * minus the kernels it runs itself) and what is left to JavaScript (batches, targets, loss graph, evaluation).
 * Run: npx tsx bench/detection-head-profile.ts [wasm|cpu] [epochs=2]   (by hand; not part of `npm run bench`)
 */
import { loadavg } from 'node:os';
import { selectBackend, train, type BackendName, type TrainingDataset } from '@diyml/ml';
import { detectionSamples } from './support/detection-samples.js';
import { profileKernelSelfTime } from './support/kernel-self-time.js';

const backend = (process.argv[2] ?? 'wasm') as BackendName;
const epochs = Number(process.argv[3] ?? 2);
await selectBackend(backend);

const { labels, photos } = detectionSamples();
const dataset: TrainingDataset = {
  task: 'detection',
  labels,
  examples: photos.filter((photo) => photo.number < 16).map((photo) => ({ image: photo.bytes, boxes: photo.boxes })),
};

const selfTime = profileKernelSelfTime(backend);

let cpuAtEpoch = process.cpuUsage();
let lastEpochCpuMs = 0;
let wallAtEpoch = performance.now();
const result = await train(
  dataset,
  {
    backend,
    architecture: 'backbone-detector',
    epochs,
    batchSize: 32,
    learningRate: 0.001,
    validationSplit: 0.2,
    augmentation: { horizontalFlip: true, cropScale: 0.85, brightness: 0.15 },
    seed: 42,
  },
  {
    onEpochEnd: (report) => {
      const used = process.cpuUsage(cpuAtEpoch);
      lastEpochCpuMs = (used.user + used.system) / 1000;
      console.log(
        `epoch ${report.epoch}: ${(report.durationMs / 1000).toFixed(1)} s, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU since the last report, loss ${report.loss.toFixed(4)}, validation mAP@0.5 ${report.valAccuracy?.toFixed(3)}`,
      );
      cpuAtEpoch = process.cpuUsage();
      if (report.epoch === epochs - 1) {
        selfTime.clear();
        wallAtEpoch = performance.now();
      }
    },
  },
);
const cpuMs = lastEpochCpuMs;
const wallMs = performance.now() - wallAtEpoch;
const kernels = [...selfTime.values()].reduce((sum, entry) => sum + entry.ms, 0);
console.log(
  `${backend}: last epoch ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (load ${loadavg()[0].toFixed(1)} on 2 cores); kernels ${kernels.toFixed(0)} ms (${((kernels / wallMs) * 100).toFixed(0)}% of wall), the rest ${(wallMs - kernels).toFixed(0)} ms; final validation mAP@0.5 ${result.validation?.metrics && 'map50' in result.validation.metrics ? (result.validation.metrics.map50 as number).toFixed(3) : '-'}; maps computed ${result.featureMaps?.computed}`,
);
for (const [name, { ms, calls }] of [...selfTime].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(
    `${name.padEnd(70)} ${ms.toFixed(1).padStart(8)} ms ${((ms / wallMs) * 100).toFixed(1).padStart(5)}% ${String(calls).padStart(6)} calls ${((ms / calls) * 1000).toFixed(0).padStart(8)} µs/call`,
  );
}
