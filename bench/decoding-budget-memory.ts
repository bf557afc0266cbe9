/**
 * Decoding memory across threads: the api's peak resident memory (VmHWM) while large-but-legal images are decoded on
 * its main thread and on its background embedding thread at once. A classification project with a backbone (the
 * tiny one, served from here) and a tiny deployed model; eight 49-MP progressive JPEGs are uploaded at once, so the
 * embedding thread decodes them in the background, while four predictions of other such JPEGs run. Before it, a small upload and a prediction start
 * the threads and load the models, and the peak so far is read. A hand-run measurement (`npm run bench` does not run
 * it); build the api first (`npx nest build api`), as it runs with BENCH_SKIP_BUILD=1.
 *
 * Run: BENCH_SKIP_BUILD=1 npx tsx bench/decoding-budget-memory.ts [--side 7000]
 */
import { loadavg } from 'node:os';
import sharp from 'sharp';
import request from 'supertest';
import { ApiClient } from '../test/support/api-client.js';
import { startBackboneHost } from '../test/support/backbone-host.js';
import { deployedTinyModel } from '../test/support/deployed-tiny-model.js';
import { BenchClient, processMemory, startProduct } from './support/product.js';
import { numberOption } from './support/result.js';

const SIDE = numberOption('side', 7000);

/**
 * A progressive JPEG of SIDE × SIDE, blocks of 100 px of colours drawn from `seed`: compresses to little, and its
 * decoder holds the coefficients of the whole picture (~150 MiB at 50 MP), even when shrinking it on load.
 */
async function largeProgressiveJpeg(seed: number): Promise<Buffer> {
  const cells = Math.ceil(SIDE / 100);
  const pixels = new Uint8Array(cells * cells * 3);
  let state = seed * 2_654_435_761 + 1;
  for (let index = 0; index < pixels.length; index++) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    pixels[index] = state >> 23;
  }
  return sharp(pixels, { raw: { width: cells, height: cells, channels: 3 } })
    .resize(SIDE, SIDE, { kernel: 'nearest' })
    .jpeg({ progressive: true, quality: 90 })
    .toBuffer();
}

async function embeddedImages(client: ApiClient, projectId: string): Promise<number> {
  const response = await client.http.get(`/v1/projects/${projectId}/embeddings`).set('Authorization', client.auth);
  return Math.max(0, ...(response.body.items as { imageCount: number }[]).map((table) => table.imageCount));
}

async function main(): Promise<void> {
  const host = await startBackboneHost('tiny-url');
  const product = await startProduct({ fresh: true, env: { BACKBONES_FILE: host.backbonesFile } });
  try {
    const bench = await BenchClient.register(product.base);
    const client = new ApiClient({ http: request(product.base) }, bench.auth);
    const { project, deployment } = await deployedTinyModel(client, ['red', 'blue'], 'budget');
    await client.configureTraining(project.id, { backbone: 'tiny-url' });
    const predict = (image: Buffer) =>
      client.http
        .post(`/v1/predict/${deployment.id}`)
        .set('Content-Type', 'application/octet-stream')
        .set('X-Api-Key', deployment.apiKey)
        .send(image);
    const upload = (image: Buffer, name: string) =>
      client.http
        .post(`/v1/projects/${project.id}/images`)
        .set('Authorization', client.auth)
        .attach('images', image, name);
    const waitForEmbeddings = async (count: number) => {
      while ((await embeddedImages(client, project.id)) < count)
        await new Promise((resolve) => setTimeout(resolve, 200));
    };

    const small = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a6' } })
      .png()
      .toBuffer();
    if ((await upload(small, 'warm-up.png')).status !== 201) throw new Error('the warm-up upload was refused');
    if ((await predict(small)).status !== 200) throw new Error('the warm-up prediction failed');
    await waitForEmbeddings(1);

    const uploads = await Promise.all(Array.from({ length: 8 }, (_, index) => largeProgressiveJpeg(index + 1)));
    const predictions = await Promise.all(Array.from({ length: 4 }, (_, index) => largeProgressiveJpeg(100 + index)));
    const before = processMemory(product.pid);
    const started = performance.now();
    const uploaded = await Promise.all(uploads.map((image, index) => upload(image, `large-${index}.jpg`)));
    const predicted = await Promise.all(predictions.map(predict));
    await waitForEmbeddings(9);
    const after = processMemory(product.pid);
    const statuses = [...uploaded, ...predicted].map(({ status }) => status);
    if (statuses.some((status) => status !== 201 && status !== 200)) throw new Error(`answers: ${statuses.join(' ')}`);
    const stored = uploaded.flatMap(({ body }) =>
      (body as { items: { status: string }[] }).items.map((item) => item.status),
    );
    if (stored.some((status) => status !== 'created')) throw new Error(`uploads: ${stored.join(' ')}`);
    console.log(
      `${SIDE}×${SIDE} progressive JPEGs (${(uploads[0].length / 2 ** 20).toFixed(1)} MiB each): api VmHWM ${Math.round(before.hwmMiB)} MiB ` +
        `after warm-up, ${Math.round(after.hwmMiB)} MiB after 8 uploads embedded and 4 predictions ` +
        `(RSS ${Math.round(after.rssMiB)} MiB after, ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `load average ${loadavg()[0].toFixed(1)})`,
    );
  } finally {
    await product.stop();
    await host.close();
  }
}

await main();
