import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Zip, ZipPassThrough } from 'fflate';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKeras2WithOptimizerState } from '../fixtures/keras/keras-fixtures.js';
import { ApiClient } from '../support/api-client.js';
import { colouredSquares, noiseImageName, RED, writeNoiseImagesZip } from '../support/generated-images.js';
import { baseUrlOf, expectStayedLive, underAttack } from '../support/liveness-probe.js';
import { registerAndLogIn, startTestApp, type TestApp } from '../support/test-app.js';
import { makeVideo } from '../support/videos.js';

vi.setConfig({ testTimeout: 180_000 });

const MiB = 1024 * 1024;
/** Large enough that holding it in memory (once, or twice with the copy an unzipping thread gets) stands out. */
const LARGE_BYTES = 100 * MiB;
/**
 * What a 100 MB upload streamed to disk may add to the api's RSS: a few chunks at a time, but the garbage of reading
 * it (socket reads, the archive thread's file reads) is collected in batches of tens of MiB. Measured in the test process (Jest):
 * video +20 to +30 MiB, archive +55 to +95 MiB; when uploads were held in memory, video +208, archive +422.
 */
const MAX_VIDEO_RSS_GROWTH_BYTES = 80 * MiB;
const MAX_ARCHIVE_RSS_GROWTH_BYTES = 150 * MiB;
/**
 * A 150 MB archive of 300 images, each unpacked to a file and read back while it is checked and stored: measured under
 * Jest +56 to +95 MiB; when the images were all held in memory, +361.
 */
const MAX_MANY_IMAGES_RSS_GROWTH_BYTES = 150 * MiB;
/** Of about 0.5 MB each: 150 MB. */
const MANY_IMAGES = 300;
/**
 * A 200 MiB Keras .h5 read where it lies, only its model's arrays: measured under Jest +67 to +140 MiB, mostly the
 * two threads each Keras import starts (reading, converting); when the file was read into memory and copied to the
 * reading thread and to a file there, +618.
 */
const MAX_KERAS_RSS_GROWTH_BYTES = 200 * MiB;
const HEALTH_BOUND_MS = 1000;
const BOUNDARY = 'diymlUploadMemoryBoundary';

/** Writes `bytes` bytes of a repeated random block to an open file, without holding them in memory. */
function writeFiller(fd: number, bytes: number): void {
  const block = randomBytes(MiB);
  for (let written = 0; written < bytes; written += block.length)
    writeSync(fd, block, 0, Math.min(block.length, bytes - written));
}

/** A zip of one image and a large stored entry (`data.bin`, which a dataset import passes over), written as it is made. */
function writeLargeDatasetZip(path: string, png: Buffer, fillerBytes: number): void {
  const fd = openSync(path, 'w');
  try {
    const zip = new Zip((error, chunk) => {
      if (error) throw error;
      writeSync(fd, chunk);
    });
    const image = new ZipPassThrough('red/1.png');
    zip.add(image);
    image.push(png, true);
    const filler = new ZipPassThrough('data.bin');
    zip.add(filler);
    const block = new Uint8Array(randomBytes(MiB));
    for (let pushed = 0; pushed < fillerBytes; pushed += block.length)
      filler.push(
        block.subarray(0, Math.min(block.length, fillerBytes - pushed)),
        pushed + block.length >= fillerBytes,
      );
    zip.end();
  } finally {
    closeSync(fd);
  }
}

/** A playable MP4 followed by a top-level `free` box of `paddingBytes` (demuxers pass over it): a large, valid video. */
function writeLargeVideo(path: string, mp4: Buffer, paddingBytes: number): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, mp4);
    const header = Buffer.alloc(8);
    header.writeUInt32BE(paddingBytes + 8, 0);
    header.write('free', 4, 'latin1');
    writeSync(fd, header);
    writeFiller(fd, paddingBytes);
  } finally {
    closeSync(fd);
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** Posts the file at `filePath` as the one file of a multipart body, streamed from disk (the client holds a chunk at a time). */
function postFile(
  baseUrl: string,
  path: string,
  auth: string,
  field: string,
  filePath: string,
  options: { abortAfterBytes?: number; fields?: Record<string, string> } = {},
): { answer: Promise<Answer>; sent: Promise<void>; abort(): void } {
  const textFields = Object.entries(options.fields ?? {}).map(
    ([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  const head = Buffer.from(
    `${textFields.join('')}--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="large.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const size = statSync(filePath).size;
  const url = new URL(path, baseUrl);
  const outgoing = httpRequest({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: {
      Authorization: auth,
      'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
      'Content-Length': head.length + size + tail.length,
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    outgoing.on('response', (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () =>
        resolve({ status: incoming.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
      );
    });
    outgoing.on('error', reject);
  });
  const sent = new Promise<void>((resolve, reject) => {
    outgoing.write(head);
    const file = createReadStream(filePath, { end: (options.abortAfterBytes ?? size) - 1 });
    file.on('error', reject);
    file.on('end', () => {
      if (options.abortAfterBytes === undefined) outgoing.end(tail);
      resolve();
    });
    file.pipe(outgoing, { end: false });
  });
  return { answer, sent, abort: () => outgoing.destroy() };
}

describe('large archives and videos are streamed to a temporary file, not held in memory', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let auth: string;
  let baseUrl: string;
  let folder: string;
  let png: Buffer;
  let mp4: Buffer;
  const uploads = () => join(testApp.dataDir, 'uploads');
  const temporaryFiles = () => (existsSync(uploads()) ? readdirSync(uploads()) : []);

  async function waitUntil(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`Still not true after 10 s: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    ({ auth } = await registerAndLogIn(testApp));
    client = new ApiClient(testApp, auth);
    baseUrl = await baseUrlOf(testApp);
    folder = mkdtempSync(join(tmpdir(), 'diyml-upload-memory-'));
    [png] = await colouredSquares(RED, 1, 31);
    mp4 = await makeVideo('testsrc', 1, 'mp4');
  }, 60_000);

  afterAll(async () => {
    rmSync(folder, { recursive: true, force: true });
    await testApp?.destroy();
  });

  it('imports a 100 MB dataset archive with the api growing by far less than the archive, leaving no temporary file', async () => {
    const project = await client.createProject('classification', [], 'large archive');
    // The archive thread warm, as after any earlier import: starting one costs its own heap, whatever the archive.
    const small = join(folder, 'small.zip');
    writeLargeDatasetZip(small, png, MiB);
    expect(
      (await postFile(baseUrl, `/v1/projects/${project.id}/images/import`, auth, 'archive', small).answer).status,
    ).toBe(201);
    const archive = join(folder, 'large.zip');
    writeLargeDatasetZip(archive, png, LARGE_BYTES);
    const report = await underAttack(
      baseUrl,
      () => postFile(baseUrl, `/v1/projects/${project.id}/images/import`, auth, 'archive', archive).answer,
    );
    expect(report.result.status).toBe(201);
    expect(report.result.body).toMatchObject({ items: [{ filename: 'red/1.png', status: 'duplicate' }], ignored: 1 });
    expectStayedLive(report, HEALTH_BOUND_MS, MAX_ARCHIVE_RSS_GROWTH_BYTES);
    expect(temporaryFiles()).toEqual([]);
  });

  it('imports a 150 MB dataset archive of 300 images with the api growing by less than the archive, leaving no temporary file', async () => {
    const project = await client.createProject('classification', [], 'many images');
    // Photos would be embedded for a backbone in the background meanwhile (other work, with its own memory).
    await client.configureTraining(project.id, { architecture: 'small-cnn' });
    // Warm, as after any earlier import: the archive thread, and sharp's decoders.
    const few = join(folder, 'few-images.zip');
    await writeNoiseImagesZip(few, 2);
    expect(
      (await postFile(baseUrl, `/v1/projects/${project.id}/images/import`, auth, 'archive', few).answer).status,
    ).toBe(201);
    const archive = join(folder, 'many-images.zip');
    await writeNoiseImagesZip(archive, MANY_IMAGES);
    expect(statSync(archive).size).toBeGreaterThan(150 * 1000 * 1000);
    const report = await underAttack(
      baseUrl,
      () => postFile(baseUrl, `/v1/projects/${project.id}/images/import`, auth, 'archive', archive).answer,
    );
    const items = report.result.body.items as { filename: string; status: string; annotationIssues?: unknown }[];
    // Any image not taken as sent, with its reason: a 207 in CI under load (not reproduced since) did not say which.
    expect(items.filter((item) => item.status !== 'created' || item.annotationIssues)).toEqual([]);
    expect(report.result.body.unmatchedAnnotations ?? []).toEqual([]);
    expect(report.result.status).toBe(201);
    expect(items.map((item) => item.status)).toEqual(Array(MANY_IMAGES).fill('created'));
    // In the archive's order.
    expect(items.map((item) => item.filename)).toEqual(
      Array.from({ length: MANY_IMAGES }, (_, index) => noiseImageName(index)),
    );
    // Memory and answers only: checking 300 images holds this test process's event loop in stretches that reached the
    // liveness bound under load (/health 7.4 s at load 6.7 per core in CI; 135-916 ms from the built api, see
    // bench/upload-import-memory.ts), which the other uploads here bound.
    expect(report.healthFailures).toEqual([]);
    expect(report.rssGrowthBytes).toBeLessThan(MAX_MANY_IMAGES_RSS_GROWTH_BYTES);
    expect(temporaryFiles()).toEqual([]);
    // 300 images decoded and stored: about 40 s on 2 cores at a load of 4, several minutes at 10.
  }, 360_000);

  it('imports a 200 MB Keras .h5 (its optimizer state left unread) with the api growing by less than the file, leaving no temporary file', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'large keras');
    const fields = { labels: 'red,blue', inputRange: '0,1' };
    // Warm, as after any earlier model import: the archive and model-check threads.
    const small = join(folder, 'small.h5');
    await writeKeras2WithOptimizerState(small, MiB);
    expect(
      (await postFile(baseUrl, `/v1/projects/${project.id}/models`, auth, 'model', small, { fields }).answer).status,
    ).toBe(201);
    const model = join(folder, 'large.h5');
    await writeKeras2WithOptimizerState(model, 200 * MiB);
    const report = await underAttack(
      baseUrl,
      () => postFile(baseUrl, `/v1/projects/${project.id}/models`, auth, 'model', model, { fields }).answer,
    );
    expect(report.result.status).toBe(201);
    expect(report.result.body).toMatchObject({ status: 'completed', imported: true });
    expectStayedLive(report, HEALTH_BOUND_MS, MAX_KERAS_RSS_GROWTH_BYTES);
    expect(temporaryFiles()).toEqual([]);
  });

  it('takes a 100 MB video and extracts its frames with the api growing by far less than the video, leaving no temporary file', async () => {
    const project = await client.createProject('classification', [], 'large video');
    const video = join(folder, 'large.mp4');
    writeLargeVideo(video, mp4, LARGE_BYTES);
    const report = await underAttack(baseUrl, async () => {
      const accepted = await postFile(baseUrl, `/v1/projects/${project.id}/videos`, auth, 'video', video).answer;
      expect(accepted.status).toBe(202);
      const path = `/v1/projects/${project.id}/videos/${String(accepted.body.id)}`;
      for (;;) {
        const { body } = await client.http.get(path).set('Authorization', auth).expect(200);
        if (body.status !== 'extracting') return body as { status: string; created: number };
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    expect(report.result).toMatchObject({ status: 'completed', created: 1 });
    expectStayedLive(report, HEALTH_BOUND_MS, MAX_VIDEO_RSS_GROWTH_BYTES);
    expect(temporaryFiles()).toEqual([]);
  });

  it('removes the temporary file of an archive or a video whose upload the client abandons half way', async () => {
    const project = await client.createProject('classification', [], 'aborted');
    const archive = join(folder, 'aborted.zip');
    writeLargeDatasetZip(archive, png, 4 * MiB);
    const video = join(folder, 'aborted.mp4');
    writeLargeVideo(video, mp4, 4 * MiB);
    for (const [path, field, file] of [
      [`/v1/projects/${project.id}/images/import`, 'archive', archive],
      [`/v1/projects/${project.id}/videos`, 'video', video],
    ]) {
      const upload = postFile(baseUrl, path, auth, field, file, { abortAfterBytes: 2 * MiB });
      upload.answer.catch(() => undefined);
      await upload.sent;
      await waitUntil(() => temporaryFiles().length === 1, `the ${field} upload is being written to DATA_DIR/uploads`);
      upload.abort();
      await waitUntil(() => temporaryFiles().length === 0, `the aborted ${field} upload's temporary file is removed`);
    }
  });
});
