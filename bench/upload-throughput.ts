/**
 * Image upload throughput over HTTP, end to end: the built api (embedded mode: SQLite events, in-memory read
 * models, blobs on disk, fsynced unless BLOB_FSYNC=false) in its own process; small generated PNGs (8–32 px)
 * sent in batches of 100 per request to `POST /v1/projects/{id}/images`. Each image is fully decoded by sharp,
 * hashed, stored as a blob, claimed for duplicate detection and recorded; each request answers once its images
 * are readable. A first batch warms up the process and is not counted. With --postgres, the api runs in the
 * PostgreSQL mode instead (log, read models and blobs in a fresh database on POSTGRES_URL's server; jobs in process).
 *
 * Run: npx tsx bench/upload-throughput.ts [--quick | --smoke] [--postgres] [--images 2000] [--batch 100] [--parallel 1]
 */
import { loadavg } from 'node:os';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { benchDatabase, isPostgresMode } from './support/postgres.js';
import { BenchClient, startProduct } from './support/product.js';
import { emitResult, loadAverages, numberOption, sized } from './support/result.js';

const total = numberOption('images', sized({ full: 2000, quick: 500, smoke: 50 }));
const batchSize = numberOption('batch', 100);
/** Requests in flight at once (an uploading UI sends a few in parallel). */
const parallel = numberOption('parallel', 1);
const fsync = process.env.BLOB_FSYNC !== 'false';

console.error(`Generating ${total} PNGs…`);
const images = await Promise.all(Array.from({ length: total }, (_, i) => generateImage(100_000 + i)));
const warmUp = await Promise.all(Array.from({ length: batchSize }, (_, i) => generateImage(900_000 + i)));
const averageBytes = images.reduce((sum, image) => sum + image.length, 0) / images.length;

const loadBefore = loadavg();
const postgres = isPostgresMode() ? await benchDatabase() : undefined;
const product = await startProduct({
  env: { BLOB_FSYNC: fsync ? 'true' : 'false', POSTGRES_URL: postgres?.url ?? '' },
});
try {
  const client = await BenchClient.register(product.base);
  const projectId = await client.createProject('upload throughput', ['cat']);
  const upload = async (batch: Buffer[], offset: number) => {
    const files = batch.map((bytes, i) => ({ name: `bench-${offset + i}.png`, bytes }));
    const items = await client.upload(projectId, files, { label: 'cat' });
    const refused = items.find((item) => item.status !== 'created');
    if (refused) throw new Error(`upload: ${JSON.stringify(refused).slice(0, 300)}`);
  };

  // Warm-up (JIT, sharp, SQLite) on images that are not counted.
  await upload(warmUp, -batchSize);

  const started = performance.now();
  let nextOffset = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (nextOffset < total) {
        const offset = nextOffset;
        nextOffset += batchSize;
        await upload(images.slice(offset, offset + batchSize), offset);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;

  const analysis = await client.json<{ imageCount: number }>('GET', `/v1/projects/${projectId}/analysis`);
  if (analysis.imageCount !== total + batchSize)
    throw new Error(`expected ${total + batchSize} images, the analysis counts ${analysis.imageCount}`);

  emitResult(
    postgres ? 'upload-throughput-postgres' : 'upload-throughput',
    {
      'upload rate': { value: total / seconds, unit: 'images/s', better: 'higher', goal: 500 },
      [`upload ${total} images, wall time`]: { value: seconds, unit: 's', better: 'lower' },
    },
    [
      `${total} PNGs (${averageBytes.toFixed(0)} bytes on average) in batches of ${batchSize}, ` +
        `${parallel === 1 ? 'one request at a time' : `${parallel} requests at a time`}, ` +
        (postgres
          ? `PostgreSQL mode, POSTGRES_SYNCHRONOUS_COMMIT=${process.env.POSTGRES_SYNCHRONOUS_COMMIT ?? 'on'}`
          : `blobs ${fsync ? 'fsynced' : 'not fsynced (BLOB_FSYNC=false)'}`),
      `load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
    ],
  );
} finally {
  await product.stop();
  await postgres?.drop();
}
