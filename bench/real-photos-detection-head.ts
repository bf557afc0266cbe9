/**
 * Predicting the real detection photos (../shared/datasets/custom-vision-samples, MIT) with a backbone detector in
 * one thread, as a test run's prediction thread does: the whole model on every photo, against the head alone on the
 * feature maps training cached for the 30 training photos (and the whole model on the 10 held-out ones); then on the
 * training photos alone, where the whole model is not loaded at all. Each way is timed from the model archive to the
 * last prediction (loading included), alternately, and the scores compared.
 *
 * Run: npx tsx bench/real-photos-detection-head.ts [--quick | --smoke]   (--quick: 3 rounds, --smoke: 1 on 8 photos, else 7)
 */
import { loadavg } from 'node:os';
import {
  FeatureMapHead,
  featureMapsFromBytes,
  featureMapsToBytes,
  imageContentHash,
  LoadedModel,
  selectBackend,
  train,
  type Prediction,
} from '@diyml/ml';
import { detectionSamples } from './support/detection-samples.js';
import { emitResult, loadAverages, percentile, sized } from './support/result.js';

const HELD_OUT_FROM = 16;
/**
 * Photos of each tag: 1 to TRAINING_UP_TO train, HELD_OUT_FROM to HELD_OUT_UP_TO are held out. --smoke trains on 3 and
 * holds one out (the engine needs no 15 boxes a tag, unlike a project): every way still predicts both kinds of photo.
 */
const TRAINING_UP_TO = sized({ full: 15, quick: 15, smoke: 3 });
const HELD_OUT_UP_TO = sized({ full: 20, quick: 20, smoke: HELD_OUT_FROM });
const ROUNDS = sized({ full: 7, quick: 3, smoke: 1 });
const OPTIONS = { threshold: 0.05, maxResults: 100 };
const BATCH = 32;

const { labels, photos: samples } = detectionSamples();
const photos = samples.filter(
  (photo) => photo.number <= TRAINING_UP_TO || (photo.number >= HELD_OUT_FROM && photo.number <= HELD_OUT_UP_TO),
);
const training = photos.filter((photo) => photo.number < HELD_OUT_FROM);

const loadBefore = loadavg();
await selectBackend();
console.error(`training a backbone detector (1 epoch) on ${training.length} photos…`);
const trained = await train(
  {
    task: 'detection',
    labels,
    examples: training.map((photo) => ({ image: photo.bytes, boxes: photo.boxes })),
  },
  { architecture: 'backbone-detector', epochs: 1, seed: 1 },
);
const featureMaps = trained.featureMaps!;
// Each photo's maps as the cache stores them (every view in one blob), read back as the test run reads them.
const blobs = new Map(
  [...featureMaps.vectors].map(([image, views]) => {
    const names = [...views.keys()];
    return [image, { names, bytes: featureMapsToBytes(names.map((name) => views.get(name)!)) }];
  }),
);
const cachedMaps = (bytes: Uint8Array) => {
  const blob = blobs.get(imageContentHash(bytes));
  if (!blob) return null;
  return featureMapsFromBytes(blob.bytes, featureMaps.dimension, blob.names.length)![blob.names.indexOf('identity')];
};

async function inBatches<T>(items: T[], predict: (batch: T[]) => Promise<Prediction[][]>): Promise<Prediction[][]> {
  const predictions: Prediction[][] = [];
  for (let start = 0; start < items.length; start += BATCH)
    predictions.push(...(await predict(items.slice(start, start + BATCH))));
  return predictions;
}

async function wholeModel(photos: { bytes: Uint8Array }[]): Promise<Prediction[][]> {
  const model = await LoadedModel.load(trained.model);
  try {
    return await inBatches(
      photos.map((photo) => photo.bytes),
      (batch) => model.predictBatch(batch, OPTIONS),
    );
  } finally {
    model.dispose();
  }
}

async function fromCachedMaps(
  photos: { bytes: Uint8Array }[],
): Promise<{ predictions: Prediction[][]; reused: number }> {
  const maps = photos.map((photo) => cachedMaps(photo.bytes));
  const cached = photos.flatMap((photo, index) =>
    maps[index] ? [{ index, image: photo.bytes, maps: maps[index] }] : [],
  );
  const uncached = photos.flatMap((photo, index) => (maps[index] ? [] : [{ index, image: photo.bytes }]));
  // As the test-run thread does: the whole model only when some photo needs it, the head then sharing its weights.
  const whole = uncached.length > 0 ? await LoadedModel.load(trained.model) : null;
  const head = whole ? await whole.featureMapHead() : await FeatureMapHead.load(trained.model);
  try {
    const predictions: Prediction[][] = [];
    const fromMaps = await inBatches(cached, (batch) => head.predict(batch, OPTIONS));
    cached.forEach(({ index }, position) => (predictions[index] = fromMaps[position]));
    if (whole) {
      const fromImages = await inBatches(
        uncached.map(({ image }) => image),
        (batch) => whole.predictBatch(batch, OPTIONS),
      );
      uncached.forEach(({ index }, position) => (predictions[index] = fromImages[position]));
    }
    return { predictions, reused: cached.length };
  } finally {
    head.dispose();
    whole?.dispose();
  }
}

const timings = {
  whole: [] as number[],
  cached: [] as number[],
  wholeTrained: [] as number[],
  headOnly: [] as number[],
};
let largestDifference = 0;
let reused = 0;
const compare = (actual: Prediction[][], expected: Prediction[][]) =>
  actual.forEach((predictions, image) =>
    predictions.slice(0, 5).forEach((prediction, index) => {
      const other = expected[image][index];
      largestDifference = Math.max(largestDifference, Math.abs(prediction.probability - (other?.probability ?? 0)));
    }),
  );
const timed = async <T>(into: number[], run: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  const result = await run();
  into.push(performance.now() - started);
  return result;
};
for (let round = 0; round < ROUNDS; round++) {
  const expected = await timed(timings.whole, () => wholeModel(photos));
  const actual = await timed(timings.cached, () => fromCachedMaps(photos));
  reused = actual.reused;
  compare(actual.predictions, expected);
  const expectedTrained = await timed(timings.wholeTrained, () => wholeModel(training));
  compare((await timed(timings.headOnly, () => fromCachedMaps(training))).predictions, expectedTrained);
  console.error(
    `round ${round + 1}: all photos ${timings.whole.at(-1)!.toFixed(0)} / ${timings.cached.at(-1)!.toFixed(0)} ms, training photos ${timings.wholeTrained.at(-1)!.toFixed(0)} / ${timings.headOnly.at(-1)!.toFixed(0)} ms`,
  );
}
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
emitResult(
  'real-photos-detection-head',
  {
    [`whole model on all ${photos.length} photos (load and predict), median`]: {
      value: percentile(sorted(timings.whole), 50),
      unit: 'ms',
      better: 'lower',
    },
    [`head on cached maps for ${reused} photos, whole model for the others, median`]: {
      value: percentile(sorted(timings.cached), 50),
      unit: 'ms',
      better: 'lower',
    },
    [`whole model on the ${training.length} training photos, median`]: {
      value: percentile(sorted(timings.wholeTrained), 50),
      unit: 'ms',
      better: 'lower',
    },
    [`head alone on the ${training.length} training photos' cached maps, median`]: {
      value: percentile(sorted(timings.headOnly), 50),
      unit: 'ms',
      better: 'lower',
    },
    'largest score difference between the two (top 5 boxes per photo)': {
      value: largestDifference,
      unit: '',
      better: 'lower',
    },
  },
  [
    `${ROUNDS} rounds`,
    `load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
  ],
);
