/**
 * Project transfer memory: the api's resident memory while it imports a project archive of incompressible blobs
 * (1 GiB by default: 1,024 images of 1 MiB of random bytes, written by the export's own zip writer), uploaded over
 * HTTP and imported in the background (202, status polled), then while it exports that project again (the answer
 * read and thrown away). `--blob-mib 256 --blobs 4` makes the same GiB of four large blobs (as videos or big
 * models are): the blob store streams them, so neither peak should grow with a blob's size.
 *
 * Run: npx tsx bench/project-import-memory.ts [--quick | --smoke] [--blobs N] [--blob-mib M]
 */
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, openAsBlob, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Of } from '@diyml/blobs';
import { blobEntry, eventsEntry, MANIFEST_ENTRY } from '@diyml/audit/pure';
import { ZipWriter } from '@diyml/audit/pure';
import { defaultTrainingConfig } from '@diyml/projects/pure';
import { type RunningProduct, startProduct } from './support/product.js';
import { emitResult, isSmoke, loadAverages, numberOption, sized } from './support/result.js';

const MiB = 1024 * 1024;
const BLOBS = numberOption('blobs', sized({ full: 1024, quick: 64, smoke: 8 }));
const BLOB_BYTES = numberOption('blob-mib', 1) * MiB;

/** An archive of one project with BLOBS images, each of BLOB_BYTES random bytes; returns its path. */
async function writeArchive(folder: string): Promise<string> {
  const path = join(folder, 'project.diyml.zip');
  const out = createWriteStream(path);
  const zip = new ZipWriter(out);
  const projectId = randomUUID();
  const at = '2026-12-01T10:00:00.000Z';
  // The blobs are made twice from the same seeds (hashes first, for the events and the manifest) rather than held.
  const seeds = Array.from({ length: BLOBS }, () => randomBytes(32));
  // AES-CTR of zeros under the seed: incompressible, and the same bytes every time.
  const blobOf = (seed: Buffer) =>
    createCipheriv('aes-256-ctr', seed, Buffer.alloc(16)).update(Buffer.alloc(BLOB_BYTES));
  const shas: string[] = [];
  for (const seed of seeds) shas.push(sha256Of(blobOf(seed)));
  const events = [
    {
      stream: `project-${projectId}`,
      type: 'ProjectCreated',
      v: 1,
      data: {
        projectId,
        ownerId: randomUUID(),
        name: 'memory bench',
        type: 'classification',
        description: '',
        // The defaults a project is created with, as a real archive records them.
        trainingConfig: defaultTrainingConfig('classification'),
        createdAt: at,
      },
      at,
    },
    ...shas.map((sha256, index) => {
      const imageId = randomUUID();
      return {
        stream: `image-${imageId}`,
        type: 'ImageUploaded',
        v: 2,
        data: {
          projectId,
          imageId,
          filename: `${index}.png`,
          sha256,
          width: 512,
          height: 512,
          format: 'png',
          bytes: BLOB_BYTES,
          dhash: '0000000000000000',
          labelId: null,
          split: 'train',
          source: null,
        },
        at,
      };
    }),
  ];
  const manifest = {
    format: 'diyml-project',
    version: 1,
    exportedAt: at,
    project: { id: projectId, name: 'memory bench', type: 'classification' },
    summary: { images: BLOBS, labels: 0, regions: 0, iterations: 0, deployments: 0 },
    events: events.length,
    blobs: [...shas].sort(),
    missingBlobs: [],
  };
  const encoder = new TextEncoder();
  await zip.add(MANIFEST_ENTRY, encoder.encode(JSON.stringify(manifest)), 'deflate');
  await zip.add(
    eventsEntry(1),
    encoder.encode(events.map((event) => `${JSON.stringify(event)}\n`).join('')),
    'deflate',
  );
  for (const [index, seed] of seeds.entries()) await zip.add(blobEntry(shas[index]), blobOf(seed), 'store');
  await zip.end();
  await new Promise<void>((resolve) => out.once('close', () => resolve()));
  return path;
}

const folder = mkdtempSync(join(tmpdir(), 'diyml-bench-import-'));
console.error(`${new Date().toISOString()} Writing an archive of ${BLOBS} blobs of ${BLOB_BYTES / MiB} MiB…`);
const archivePath = await writeArchive(folder);
const archiveBytes = statSync(archivePath).size;
// An api of its own with limits above the archive; --smoke uses the one bench/run.ts shares (booting one costs ~5
// CPU-s), whose default limits take the small archive.
const own = isSmoke()
  ? undefined
  : await startProduct({
      fresh: true,
      env: {
        IMPORT_MAX_ARCHIVE_BYTES: String(4 * archiveBytes),
        ARCHIVE_MAX_INFLATED_BYTES: String(4 * archiveBytes),
        ARCHIVE_MAX_ENTRY_BYTES: String(2 * BLOB_BYTES),
        LOG_LEVEL: 'warn',
      },
    });
own?.process.once('exit', (code, signal) =>
  console.error(`${new Date().toISOString()} The api exited: ${signal ?? code}`),
);
const product: RunningProduct = own ?? (await startProduct());
const loads: number[] = [];
try {
  const credentials = { username: `bench${Date.now().toString(36)}`, password: 'correct horse battery' };
  const post = (path: string, body: unknown) =>
    fetch(`${product.base}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  await post('/v1/auth/register', credentials);
  const { accessToken } = (await (await post('/v1/auth/login', credentials)).json()) as { accessToken: string };
  const auth = { Authorization: `Bearer ${accessToken}` };

  const atRest = product.rssMiB();
  let peak = atRest;
  const sampler = setInterval(() => {
    peak = Math.max(peak, product.rssMiB());
    loads.push(loadavg()[0]);
  }, 100);
  console.error(`${new Date().toISOString()} Uploading and importing…`);
  const started = performance.now();
  const form = new FormData();
  form.append('archive', await openAsBlob(archivePath), 'project.diyml.zip');
  const accepted = await fetch(`${product.base}/v1/projects/import`, {
    method: 'POST',
    headers: { ...auth, Prefer: 'respond-async' },
    body: form,
  });
  if (accepted.status !== 202) throw new Error(`import answered ${accepted.status}: ${await accepted.text()}`);
  const uploadedS = (performance.now() - started) / 1000;
  const location = accepted.headers.get('location')!;
  let status: { status: string; projectId?: string; imported?: { blobs: number }; error?: unknown } = {
    status: 'pending',
  };
  while (status.status === 'pending') {
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = (await (await fetch(`${product.base}${location}`, { headers: auth })).json()) as typeof status;
  }
  const totalS = (performance.now() - started) / 1000;
  const importPeak = peak;
  if (status.status !== 'done' || status.imported?.blobs !== BLOBS)
    throw new Error(`the import ended ${JSON.stringify(status)}`);

  // The export of the imported project, read as it streams and thrown away.
  console.error(`${new Date().toISOString()} Exporting…`);
  peak = product.rssMiB();
  const exportAtRest = peak;
  const exportStarted = performance.now();
  const exported = await fetch(`${product.base}/v1/projects/${status.projectId}/export`, {
    method: 'POST',
    headers: auth,
  });
  if (exported.status !== 200 || !exported.body) throw new Error(`export answered ${exported.status}`);
  let exportedBytes = 0;
  for await (const chunk of exported.body) exportedBytes += chunk.byteLength;
  const exportS = (performance.now() - exportStarted) / 1000;
  clearInterval(sampler);
  if (exportedBytes < archiveBytes) throw new Error(`the export holds ${exportedBytes} bytes of ${archiveBytes}`);
  emitResult(
    'project-import-memory',
    {
      'archive size': { value: archiveBytes / MiB, unit: 'MiB', better: 'higher' },
      'api RSS at rest': { value: atRest, unit: 'MiB', better: 'lower' },
      'api RSS peak while uploading and importing': { value: importPeak, unit: 'MiB', better: 'lower' },
      'upload (until the 202)': { value: uploadedS, unit: 's', better: 'lower' },
      'upload and import': { value: totalS, unit: 's', better: 'lower' },
      'api RSS before the export': { value: exportAtRest, unit: 'MiB', better: 'lower' },
      'api RSS peak while exporting': { value: peak, unit: 'MiB', better: 'lower' },
      export: { value: exportS, unit: 's', better: 'lower' },
    },
    [
      `${BLOBS} blobs of ${BLOB_BYTES / MiB} MiB of random bytes, imported in the background (Prefer: respond-async), then exported`,
    ],
    { load: loadAverages([Math.min(...loads), Math.max(...loads)]) },
  );
} finally {
  await product.stop();
  rmSync(folder, { recursive: true, force: true });
}
