import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { freePort } from '@diyml/core/testing/free-port.js';
import { appsAreBuilt, BUILT_API } from '../support/built-processes.js';
import { underAttack } from '../support/liveness-probe.js';
import { modelZip, tinyClassifier } from '../support/tiny-models.js';

vi.setConfig({ testTimeout: 180_000 });

const MiB = 1024 * 1024;
/** The issue's bound: an api over 500 MB for a handful of kilobyte-sized requests is one a user notices. */
const MAX_API_RSS_BYTES = 500 * MiB;
const HEALTH_BOUND_MS = 1000;
const ROOT = join(import.meta.dirname, '../..');

/** A TIFF of one strip holding every row of a `size` × `size` picture, its strip's bytes `strip`. */
function oneStripTiff(
  size: number,
  picture: { compression: number; photometric: number; bitsPerSample: number; samples: number },
  strip: Buffer,
): Buffer {
  const LONG = 4;
  const SHORT = 3;
  const entries: Array<[tag: number, type: number, value: number]> = [
    [256, LONG, size], // width
    [257, LONG, size], // height
    [258, SHORT, picture.bitsPerSample],
    [259, SHORT, picture.compression],
    [262, SHORT, picture.photometric],
    [273, LONG, 0], // strip offset, set below
    [277, SHORT, picture.samples],
    [278, LONG, size], // rows per strip: all
    [279, LONG, strip.length], // strip byte count
  ];
  const header = Buffer.alloc(8 + 2 + entries.length * 12 + 4);
  header.write('II*\0', 'latin1');
  header.writeUInt32LE(8, 4);
  header.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], index) => {
    const at = 10 + index * 12;
    header.writeUInt16LE(tag, at);
    header.writeUInt16LE(type, at + 2);
    header.writeUInt32LE(1, at + 4);
    const written = tag === 273 ? header.length : value;
    if (type === SHORT) header.writeUInt16LE(written, at + 8);
    else header.writeUInt32LE(written, at + 8);
  });
  return Buffer.concat([header, strip]);
}

/** About 1 KB of one-bit pixels: CCITT group 4 codes a white row like the row above in one bit. Decoded in pieces. */
function hollowFaxTiff(size: number): Buffer {
  const rows = Buffer.concat([Buffer.alloc(Math.ceil(size / 8), 0xff), Buffer.from([0x00, 0x10, 0x01])]);
  return oneStripTiff(size, { compression: 4, photometric: 0, bitsPerSample: 1, samples: 1 }, rows);
}

/** ~400 bytes: an 16 × 16 JPEG whose frame header declares `size` × `size`, as the one strip of a YCbCr TIFF. */
async function hollowJpegTiff(size: number): Promise<Buffer> {
  const jpeg = Buffer.from(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c00' } })
      .jpeg({ chromaSubsampling: '4:2:0' })
      .toBuffer(),
  );
  const frame = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(size, frame + 5);
  jpeg.writeUInt16BE(size, frame + 7);
  return oneStripTiff(size, { compression: 7, photometric: 6, bitsPerSample: 8, samples: 3 }, jpeg);
}

/** A GIF of 43 bytes whose one frame declares `size` × `size` pixels: libvips decodes a whole frame (4 bytes a pixel). */
function hollowGif(size: number): Buffer {
  const screen = Buffer.alloc(7);
  screen.writeUInt16LE(size, 0);
  screen.writeUInt16LE(size, 2);
  screen[4] = 0x80; // a global colour table of two colours
  const descriptor = Buffer.from([0x2c, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  descriptor.writeUInt16LE(size, 5);
  descriptor.writeUInt16LE(size, 7);
  return Buffer.concat([
    Buffer.from('GIF89a'),
    screen,
    Buffer.from([0, 0, 0, 255, 255, 255]),
    Buffer.from([0x21, 0xf9, 4, 0, 0, 0, 0, 0]),
    descriptor,
    Buffer.from([2, 2, 0x4c, 0x01, 0, 0x3b]),
  ]);
}

/** The environment and node options of `npm start`, so the api runs as it does for a user. */
function startScript(): { env: Record<string, string>; nodeOptions: string[] } {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts;
  const words = scripts.start.split(/\s+/);
  const node = words.indexOf('node');
  const env = Object.fromEntries(words.slice(0, node).map((word) => word.split('=') as [string, string]));
  return { env, nodeOptions: words.slice(node + 1).filter((word) => word.startsWith('--')) };
}

/** The built api started as `npm start` starts it, on a free port, once /health answers. */
async function startApi(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const { env: startEnv, nodeOptions } = startScript();
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [...nodeOptions, BUILT_API], {
    cwd: ROOT,
    env: {
      ...process.env,
      EVENTSTORE_CONNECTION_STRING: '',
      MONGODB_URI: '',
      LOG_LEVEL: 'warn',
      ...startEnv,
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 1800; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the api exited:\n${output}`);
    try {
      await fetch(`${url}/health`);
      return { child, url, output: () => output };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100)); // not listening yet
    }
  }
  throw new Error(`the api did not answer /health:\n${output}`);
}

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

(appsAreBuilt ? describe : describe.skip)(
  `the built api predicting on hollow images (issue 17)${appsAreBuilt ? '' : ' (skipped: run `npx nest build api` first)'}`,
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'diyml-hollow-'));
    let api: Awaited<ReturnType<typeof startApi>>;
    let deployment: { id: string; apiKey: string };

    const predict = (image: Buffer) =>
      request(api.url)
        .post(`/v1/predict/${deployment.id}`)
        .set('Content-Type', 'application/octet-stream')
        .set('X-Api-Key', deployment.apiKey)
        .send(image);

    beforeAll(async () => {
      api = await startApi({
        DATA_DIR: dataDir,
        JWT_SECRET: 'hollow-images-secret-'.padEnd(40, 'x'),
        POSTGRES_URL: '',
        REDIS_URL: '',
      });
      const http = () => request(api.url);
      const credentials = { username: 'hollow', password: `hollow-${randomBytes(8).toString('hex')}` };
      await http().post('/v1/auth/register').send(credentials).expect(201);
      const auth = `Bearer ${(await http().post('/v1/auth/login').send(credentials)).body.accessToken}`;
      const projectId = (
        await http()
          .post('/v1/projects')
          .set('Authorization', auth)
          .send({ name: 'hollow', type: 'classification' })
          .expect(201)
      ).body.id;
      for (const name of ['red', 'blue'])
        await http().post(`/v1/projects/${projectId}/labels`).set('Authorization', auth).send({ name }).expect(201);
      const imported = await http()
        .post(`/v1/projects/${projectId}/models`)
        .set('Authorization', auth)
        .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
        .expect(201);
      deployment = (
        await http()
          .post(`/v1/projects/${projectId}/deployments`)
          .set('Authorization', auth)
          .send({ iterationId: imported.body.id })
          .expect(201)
      ).body;
    }, 180_000);

    afterAll(async () => {
      if (api && api.child.exitCode === null) {
        const exited = new Promise((resolve) => api.child.once('exit', resolve));
        api.child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('refuses eight 400-byte TIFFs of one JPEG strip declaring 52 MP, one after another then at once, and answers hollow fax TIFFs and GIFs, under 500 MB', async () => {
      const jpegTiff = await hollowJpegTiff(7200);
      const faxTiff = hollowFaxTiff(7200);
      const gif = hollowGif(7200);
      const before = memoryOf(api.child.pid!).rss;
      let highest = before;
      const sampler = setInterval(() => (highest = Math.max(highest, memoryOf(api.child.pid!).rss)), 20);
      const together = (image: Buffer, count: number) =>
        Promise.all(Array.from({ length: count }, () => predict(image)));
      const answers = { jpegTiff: [] as string[], faxTiff: [] as number[], gif: [] as number[] };
      const report = await underAttack(api.url, async () => {
        const refused = ({ status, body }: { status: number; body: { code?: string } }) => `${status} ${body.code}`;
        for (let sent = 0; sent < 8; sent += 1) answers.jpegTiff.push(refused(await predict(jpegTiff)));
        answers.jpegTiff.push(...(await together(jpegTiff, 8)).map(refused));
        answers.faxTiff = (await together(faxTiff, 8)).map(({ status }) => status);
        answers.gif = (await together(gif, 4)).map(({ status }) => status);
      }).finally(() => clearInterval(sampler));
      const { rss, peak } = memoryOf(api.child.pid!);
      console.log(
        `hollow images: api RSS ${Math.round(before / MiB)} MiB before, highest ${Math.round(highest / MiB)} MiB ` +
          `(VmHWM ${Math.round(peak / MiB)}), ${Math.round(rss / MiB)} MiB after; slowest /health ` +
          `${Math.round(report.slowestHealthMs)} ms at load ${report.loadPerCore.toFixed(1)} per core`,
      );
      // libvips decodes a compressed strip whole (~330 MB here): refused from the header, saying how to save it.
      expect(answers.jpegTiff).toEqual(Array.from({ length: 16 }, () => '413 IMAGE_TOO_LARGE'));
      // Pictures that decode in pieces, or whose pixels must be held anyway (a GIF's frame), are answered.
      expect(answers.faxTiff).toEqual(Array.from({ length: 8 }, () => 200));
      expect(answers.gif).toEqual(Array.from({ length: 4 }, () => 200));
      expect({ failures: report.healthFailures, probed: report.healthProbes > 0 }).toEqual({
        failures: [],
        probed: true,
      });
      expect(report.slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS * Math.max(1, report.loadPerCore));
      expect(peak).toBeLessThan(MAX_API_RSS_BYTES);
    });
  },
);
