/**
 * The embedded read store's images list with its total, in-process: a project of IMAGES image documents, listed
 * (first page and total) under every combination of the list's filters (label, unlabeled, split, included,
 * metadata), as a console user clicking through filters would. Figures: the read store's heap after a full
 * collection, against the same documents before any list; and the median time of one total (a count) once the
 * filters' indexes exist.
 *
 * Run: npx tsx bench/images-list-count-indexes.ts [--quick | --smoke] [--images 20000]
 */
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DatasetQueries, type ImageFilter, IMAGES, type ImageView } from '@diyml/datasets';
import { InMemoryReadStore } from '@diyml/read-store';
import { emitResult, loadAverages, median, numberOption, sized } from './support/result.js';

const IMAGE_COUNT = numberOption('images', sized({ full: 20_000, quick: 5000, smoke: 500 }));
const LABELS = ['cat', 'dog', 'bird', 'fish'];
const SPLITS = ['train', 'validation', 'test'] as const;

// A full collection before each heap reading, without asking the runner for --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterCollection(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

const store = new InMemoryReadStore();
const images = store.collection<ImageView>(IMAGES);
for (let index = 0; index < IMAGE_COUNT; index++) {
  const labelId = index % 10 === 0 ? null : LABELS[index % LABELS.length];
  await images.apply(`image-${index}`, index + 1, () => ({
    id: `image-${String(index).padStart(6, '0')}`,
    projectId: 'project',
    filename: `${index}.png`,
    width: 32,
    height: 32,
    format: 'png',
    bytes: 1000,
    sha256: `sha-${index}`,
    dhash: '0',
    labelId,
    labelSet: [],
    regions: [],
    labeled: labelId !== null,
    labelIds: labelId ? [labelId] : [],
    split: SPLITS[index % SPLITS.length],
    metadata: { camera: `c${index % 3}` },
    metadataEntries: [`camera=c${index % 3}`],
    included: index % 7 !== 0,
    uploadedAt: '2026-01-01T00:00:00.000Z',
    seq: index + 1,
    revision: 1,
  }));
}
const queries = new DatasetQueries(store);
const filters: ImageFilter[] = [];
for (const labelId of [undefined, 'cat'])
  for (const unlabeled of [undefined, false])
    for (const split of [undefined, 'train'] as const)
      for (const included of [undefined, true])
        for (const metadata of [undefined, 'camera=c1'])
          filters.push({ labelId, unlabeled, split, included, metadata });

const before = heapAfterCollection();
// As the images list does: a page and the total of the same filter.
for (const filter of filters)
  await Promise.all([queries.list('project', filter, { limit: 50 }), queries.count('project', filter)]);
const after = heapAfterCollection();

const times: number[] = [];
for (let round = 0; round < 200; round++) {
  for (const filter of filters) {
    const start = process.hrtime.bigint();
    await queries.count('project', filter);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
}
emitResult(
  'images-list-count-indexes',
  {
    indexHeap: { value: (after - before) / 1024 / 1024, unit: 'MB', better: 'lower' },
    countMedian: { value: median(times) * 1000, unit: 'µs', better: 'lower' },
  },
  [`${IMAGE_COUNT} images, ${filters.length} filter combinations; load ${loadAverages(loadavg())}`],
);
