/**
 * Video prediction: the model phase of a video prediction job (frames already extracted), the way the job
 * runs it now (one worker thread that loads the model once, then predicts chunk after chunk) beside the way
 * it ran before (a fresh thread that loaded the model for every chunk), on the same frames of a short
 * ffmpeg test video and an untrained small-cnn at 64×64 (the default classification size; the weights do not
 * change the time). Chunks as the job cuts them: at least 32 frames, at most 10 chunks.
 *
 * Run: npx tsx bench/video-prediction.ts [--quick | --smoke]
 */
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildProduct, ROOT } from './support/product.js';
import { emitResult, loadAverages, median, sized } from './support/result.js';

// The built modules: their worker threads run the built .js files, as in the product.
buildProduct();
const fromDist = (path: string) => import(pathToFileURL(join(ROOT, 'dist', path)).href);
const { extractFrames } = (await fromDist('libs/datasets/src/index.js')) as typeof import('@diyml/datasets');
const { predictOnThread } = (await fromDist('libs/evaluation/src/index.js')) as typeof import('@diyml/evaluation');
const { VideoModelThread } = (await fromDist('libs/deployments/src/index.js')) as typeof import('@diyml/deployments');
const { getArchitecture, selectBackend, serializeModel } = (await fromDist(
  'libs/ml/src/index.js',
)) as typeof import('@diyml/ml');
const { packModel } = (await fromDist('libs/training/src/index.js')) as typeof import('@diyml/training');

/** Seconds of video: --smoke keeps one chunk and a bit (35 frames). */
const SECONDS = sized({ full: 30, quick: 10, smoke: 7 });
const FRAMES_PER_SECOND = 5;
const RUNS = sized({ full: 3, quick: 1, smoke: 1 });

const folder = mkdtempSync(join(tmpdir(), 'diyml-bench-video-'));
const videoPath = join(folder, 'video.mp4');
execFileSync(ffmpegInstaller.path, [
  '-v',
  'error',
  '-f',
  'lavfi',
  '-i',
  `testsrc=duration=${SECONDS}:size=160x120:rate=10`,
  '-c:v',
  'libx264',
  '-pix_fmt',
  'yuv420p',
  videoPath,
]);
const frames = (await extractFrames(readFileSync(videoPath), FRAMES_PER_SECOND, 10_000)).map(
  (frame) => new Uint8Array(frame.png),
);
rmSync(folder, { recursive: true, force: true });

await selectBackend();
const built = await getArchitecture('small-cnn', 'classification').build({
  imageSize: { width: 64, height: 64 },
  channels: 3,
  labelCount: 3,
  seed: 1,
});
const serialized = await serializeModel(built.model, {
  format: 'diyml',
  version: 1,
  architecture: 'small-cnn',
  task: 'classification',
  labels: ['a', 'b', 'c'],
  imageSize: built.imageSize,
  channels: 3,
  fit: 'resize',
  inputRange: [0, 1],
});
built.model.dispose();
const modelZip = packModel(serialized as typeof serialized & { weights: Uint8Array });

const chunkSize = Math.max(32, Math.ceil(frames.length / 10));
const chunks: Uint8Array[][] = [];
for (let start = 0; start < frames.length; start += chunkSize) chunks.push(frames.slice(start, start + chunkSize));

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const loadedOnce: number[] = [];
const loadedPerChunk: number[] = [];
for (let run = 0; run < RUNS; run += 1) {
  loadedPerChunk.push(
    await timed(async () => {
      for (const chunk of chunks) await predictOnThread(modelZip, chunk, {});
    }),
  );
  loadedOnce.push(
    await timed(async () => {
      const thread = await VideoModelThread.open(modelZip);
      try {
        for (const chunk of chunks) await thread.predict(chunk, {});
      } finally {
        await thread.close();
      }
    }),
  );
}

const once = median(loadedOnce);
const perChunk = median(loadedPerChunk);
emitResult(
  'video-prediction',
  {
    'model load once, whole video': { value: once, unit: 'ms', better: 'lower' },
    'model load per chunk (before), whole video': { value: perChunk, unit: 'ms', better: 'lower' },
    'frames per second, model loaded once': {
      value: (frames.length / once) * 1000,
      unit: 'frames/s',
      better: 'higher',
    },
  },
  [
    `${frames.length} frames of a ${SECONDS} s video at ${FRAMES_PER_SECOND} frames/s, ${chunks.length} chunks; median of ${RUNS} runs`,
    `load average ${loadAverages(loadavg())}`,
  ],
);
