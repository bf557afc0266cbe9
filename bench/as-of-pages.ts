/**
 * Paging through a project as it was (`?asOf=`): the built api (embedded mode) in its own process holds a project of
 * tiny generated PNGs, uploaded in batches; a client reads all of it, page after page (10 pages), at one past log
 * position, as the console pages a list. Run twice on the same data: with AS_OF_CACHE_MAX_DOCUMENTS=0 (every page
 * rebuilds the snapshot from the log, as before the cache) and with a cache of 50,000 documents (--cache-documents). Figures: the api's CPU time
 * (from /proc, which hardly depends on the machine's load) and the wall time of the 10 pages; then the heap the cache
 * keeps once full: the first page at a position after each batch (more snapshots than the cache holds), the api's
 * heap after a full collection before and after, against the same reads without the cache.
 *
 * Run: npx tsx bench/as-of-pages.ts [--quick | --smoke] [--images 5000] [--rounds 3] [--cache-documents 50000]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { BenchClient, type OwnProduct, startProduct } from './support/product.js';
import { emitResult, loadAverages, median, numberOption, sized } from './support/result.js';

const IMAGES = numberOption('images', sized({ full: 5000, quick: 1000, smoke: 20 }));
const ROUNDS = numberOption('rounds', sized({ full: 3, quick: 2, smoke: 1 }));
const PAGES = 10;
const PAGE_SIZE = Math.ceil(IMAGES / PAGES);
const BATCH = Math.max(1, Math.ceil(IMAGES / 20));
/** The cache's bound in the run with it: the 20 snapshots of 5,000 images (52,500 documents) fill 50,000. */
const CACHE_DOCUMENTS = numberOption('cache-documents', 50_000);

const reportDir = mkdtempSync(join(tmpdir(), 'diyml-heap-'));
const heapFile = join(reportDir, 'heap.json');
const dataDir = mkdtempSync(join(tmpdir(), 'diyml-bench-as-of-'));

/** The api on the bench's data directory, with the cache bound given (undefined: the default). */
function start(cacheDocuments?: number): Promise<OwnProduct> {
  return startProduct({
    fresh: true,
    dataDir,
    env: {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import ${join(import.meta.dirname, 'support', 'heap-after-gc.ts')}`,
      HEAP_REPORT_FILE: heapFile,
      ...(cacheDocuments === undefined ? {} : { AS_OF_CACHE_MAX_DOCUMENTS: String(cacheDocuments) }),
    },
  });
}

/** The api's heap (MiB) after a full collection. */
async function heapMiB(product: OwnProduct): Promise<number> {
  rmSync(heapFile, { force: true });
  product.process.kill('SIGURG');
  while (!existsSync(heapFile)) await sleep(20);
  return (JSON.parse(readFileSync(heapFile, 'utf8')) as NodeJS.MemoryUsage).heapUsed / 2 ** 20;
}

interface Measured {
  cpuMs: number;
  wallMs: number;
  heapGrowthMiB: number;
  rssMiB: number;
}

/** Pages through the project at positions of `rounds`, one round each, then fills the cache (see the header). */
async function measure(
  product: OwnProduct,
  client: BenchClient,
  projectId: string,
  rounds: number[],
  batchPositions: number[],
): Promise<Measured> {
  const cpu: number[] = [];
  const wall: number[] = [];
  for (const position of rounds) {
    const cpuBefore = product.cpuMs();
    const started = performance.now();
    let cursor: string | null = null;
    let pages = 0;
    let images = 0;
    do {
      const cursorQuery: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page: { items: unknown[]; nextCursor: string | null } = await client.json(
        'GET',
        `/v1/projects/${projectId}/images?limit=${PAGE_SIZE}&asOf=${position}${cursorQuery}`,
      );
      pages += 1;
      images += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    wall.push(performance.now() - started);
    cpu.push(product.cpuMs() - cpuBefore);
    if (images !== IMAGES || pages < PAGES) throw new Error(`${pages} pages of ${images} images at ${position}`);
  }
  const heapBefore = await heapMiB(product);
  for (const position of batchPositions) {
    await client.json('GET', `/v1/projects/${projectId}/images?limit=1&asOf=${position}`);
  }
  const heapAfter = await heapMiB(product);
  return { cpuMs: median(cpu), wallMs: median(wall), heapGrowthMiB: heapAfter - heapBefore, rssMiB: product.rssMiB() };
}

try {
  console.error(`Generating and uploading ${IMAGES} PNGs…`);
  let product = await start(0);
  const client = await BenchClient.register(product.base);
  const projectId = await client.createProject('as it was', ['cat']);
  const batchPositions: number[] = [];
  for (let first = 0; first < IMAGES; first += BATCH) {
    const files = await Promise.all(
      Array.from({ length: Math.min(BATCH, IMAGES - first) }, async (_, index) => ({
        name: `image-${first + index}.png`,
        bytes: await generateImage(first + index, { width: 8, height: 8 }),
      })),
    );
    await client.upload(projectId, files, { label: 'cat' });
    const health = await client.json<{ info: { eventStore: { headPosition: number } } }>('GET', '/health');
    batchPositions.push(health.info.eventStore.headPosition);
  }
  // Positions after the uploads that the read models have reached (only those are kept): a label added per round,
  // so no round reads a page kept from an earlier one.
  const settledPositions: number[] = [];
  for (let round = 0; round < 2 * ROUNDS; round += 1) {
    await client.json('POST', `/v1/projects/${projectId}/labels`, { name: `round ${round}` });
    const health = await client.json<{ info: { eventStore: { headPosition: number } } }>('GET', '/health');
    settledPositions.push(health.info.eventStore.headPosition);
  }
  const roundsOff = settledPositions.slice(0, ROUNDS);
  const roundsOn = settledPositions.slice(ROUNDS);

  const loadBefore = loadavg();
  const off = await measure(product, client, projectId, roundsOff, batchPositions);
  await product.stop({ keepData: true });
  product = await start(CACHE_DOCUMENTS);
  // The same user on the restarted api (its port is new; the sign-in key is kept in the data directory).
  const again = Object.assign(new BenchClient(product.base), { auth: client.auth });
  const on = await measure(product, again, projectId, roundsOn, batchPositions);
  await product.stop();

  const figures: Parameters<typeof emitResult>[1] = {};
  for (const [suffix, run] of [
    [' (no cache)', off],
    ['', on],
  ] as const) {
    Object.assign(figures, {
      [`api CPU for ${PAGES} asOf pages${suffix}`]: { value: run.cpuMs, unit: 'ms', better: 'lower' },
      [`wall time of ${PAGES} asOf pages${suffix}`]: { value: run.wallMs, unit: 'ms', better: 'lower' },
      [`api heap growth after ${batchPositions.length} asOf positions${suffix}`]: {
        value: run.heapGrowthMiB,
        unit: 'MiB',
        better: 'lower',
      },
      [`api RSS at the end${suffix}`]: { value: run.rssMiB, unit: 'MiB', better: 'lower' },
    });
  }
  emitResult('as-of-pages', figures, [
    `${IMAGES} images of 8×8 px in ${batchPositions.length} uploads; ${PAGES} pages of ${PAGE_SIZE} at one asOf position (the whole project), median of ${ROUNDS} rounds at different positions; then the first page at the position after each upload (${batchPositions.length} snapshots of ${BATCH}–${IMAGES} images, more documents than the cache's ${CACHE_DOCUMENTS} for 5,000 images), heap measured after a full collection`,
    `load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
  ]);
} finally {
  rmSync(reportDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
