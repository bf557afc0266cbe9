/**
 * Import memory: the api's resident memory while it imports a dataset archive of many images (150 MB by default:
 * 300 PNGs of noise, ~0.5 MB each), a Keras 2 `.h5` saved with its optimizer (a tiny model beside 200 MiB of
 * optimizer state, which an import never reads), and a Keras 2 `.h5` whose own weights are large (64 MiB by default:
 * the arrays an import must read, convert and check). Each is imported once small first (threads and libraries warm,
 * as after any earlier import), then measured: RSS at rest before it, peak while it is uploaded and imported (sampled
 * every 20 ms), the slowest GET /health meanwhile (asked every 50 ms from here) and the time until the answer.
 * A hand-run measurement (it prints a table; `npm run bench` does not run it).
 *
 * Run: npx tsx bench/upload-import-memory.ts [--images N] [--optimizer-mib M] [--weights-mib W]
 */
import h5wasm, { type Group } from 'h5wasm/node';
import { mkdtempSync, openAsBlob, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKeras2WithOptimizerState } from '../test/fixtures/keras/keras-fixtures.js';
import { writeNoiseImagesZip } from '../test/support/generated-images.js';
import { startProduct } from './support/product.js';
import { numberOption } from './support/result.js';

const MiB = 1024 * 1024;
const IMAGES = numberOption('images', 300);
const OPTIMIZER_MIB = numberOption('optimizer-mib', 200);
const WEIGHTS_MIB = numberOption('weights-mib', 64);
/** Noise of this side does not compress: ~0.5 MB a PNG. */
/**
 * A Keras 2 `.h5` of an 8×8 RGB classifier whose weights take about `weightBytes`: Flatten, then a Dense layer wide
 * enough, then a softmax Dense layer of two classes.
 */
async function writeWideKeras2(path: string, weightBytes: number): Promise<void> {
  await h5wasm.ready;
  const inputs = 8 * 8 * 3;
  const units = Math.max(1, Math.round(weightBytes / 4 / (inputs + 3)));
  const dense = (name: string, size: number, activation: string) => ({
    class_name: 'Dense',
    config: { name, trainable: true, dtype: 'float32', units: size, activation, use_bias: true },
  });
  const modelConfig = {
    class_name: 'Sequential',
    config: {
      name: 'wide',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 8, 8, 3], dtype: 'float32', name: 'input' } },
        { class_name: 'Flatten', config: { name: 'flatten', trainable: true, dtype: 'float32' } },
        dense('wide', units, 'relu'),
        dense('out', 2, 'softmax'),
      ],
    },
  };
  const arrays: Record<string, [number[], number[]]> = { wide: [[inputs, units], [units]], out: [[units, 2], [2]] };
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_attribute('keras_version', '2.15.0');
    file.create_attribute('model_config', JSON.stringify(modelConfig));
    const weights = file.create_group('model_weights');
    weights.create_attribute('layer_names', ['flatten', 'wide', 'out']);
    const flatten = weights.create_group('flatten');
    flatten.create_attribute('weight_names', new Uint8Array(0), [0], '<B');
    for (const [layer, [kernel, bias]] of Object.entries(arrays)) {
      const group: Group = weights.create_group(layer);
      group.create_attribute('weight_names', [`${layer}/kernel:0`, `${layer}/bias:0`]);
      const inner = group.create_group(layer);
      for (const [name, shape] of [
        ['kernel:0', kernel],
        ['bias:0', bias],
      ] as const) {
        const values = new Float32Array(shape.reduce((product, size) => product * size, 1));
        for (let index = 0; index < values.length; index += 1) values[index] = (Math.random() - 0.5) * 0.01;
        inner.create_dataset({ name, data: values, shape, dtype: '<f' });
      }
    }
  } finally {
    file.close();
  }
}

interface Measured {
  status: number;
  restMiB: number;
  peakMiB: number;
  slowestHealthMs: number;
  seconds: number;
}

const folder = mkdtempSync(join(tmpdir(), 'diyml-bench-import-memory-'));
const files = {
  fewImages: join(folder, 'few-images.zip'),
  images: join(folder, 'images.zip'),
  smallKeras: join(folder, 'small.h5'),
  optimizerKeras: join(folder, 'optimizer.h5'),
  wideKeras: join(folder, 'wide.h5'),
};
console.error(`${new Date().toISOString()} Writing the files…`);
await writeNoiseImagesZip(files.fewImages, 2);
await writeNoiseImagesZip(files.images, IMAGES);
await writeKeras2WithOptimizerState(files.smallKeras, MiB);
await writeKeras2WithOptimizerState(files.optimizerKeras, OPTIMIZER_MIB * MiB);
await writeWideKeras2(files.wideKeras, WEIGHTS_MIB * MiB);

const product = await startProduct({ fresh: true, env: { LOG_LEVEL: 'warn' } });
const loads: number[] = [loadavg()[0]];
try {
  const credentials = { username: `bench${Date.now().toString(36)}`, password: 'correct horse battery' };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${product.base}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  await post('/v1/auth/register', credentials);
  const { accessToken } = (await (await post('/v1/auth/login', credentials)).json()) as { accessToken: string };
  const auth = { Authorization: `Bearer ${accessToken}` };
  const createProject = async (name: string, labels: string[]) => {
    const project = (await (await post('/v1/projects', { name, type: 'classification' }, auth)).json()) as {
      id: string;
    };
    for (const label of labels) await post(`/v1/projects/${project.id}/labels`, { name: label }, auth);
    return project.id;
  };

  async function measure(path: string, field: string, file: string, fields: Record<string, string> = {}) {
    const restMiB = product.rssMiB();
    let peakMiB = restMiB;
    const sampler = setInterval(() => (peakMiB = Math.max(peakMiB, product.rssMiB())), 20);
    let probing = true;
    let slowestHealthMs = 0;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        await fetch(`${product.base}/health`);
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const started = performance.now();
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append(field, await openAsBlob(file), file.split('/').pop());
    const answer = await fetch(`${product.base}${path}`, { method: 'POST', headers: auth, body: form });
    await answer.arrayBuffer();
    const seconds = (performance.now() - started) / 1000;
    probing = false;
    await probe;
    clearInterval(sampler);
    loads.push(loadavg()[0]);
    return { status: answer.status, restMiB, peakMiB, slowestHealthMs, seconds } satisfies Measured;
  }

  const datasetProject = await createProject('images', []);
  // Photos would be embedded for a backbone in the background meanwhile (other work, with its own memory).
  await fetch(`${product.base}/v1/projects/${datasetProject}/training-config`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', ...auth },
    body: JSON.stringify({ architecture: 'small-cnn' }),
  });
  const kerasProject = await createProject('keras', ['red', 'blue']);
  const keras = { labels: 'red,blue', inputRange: '0,1' };
  const importImages = (file: string) => measure(`/v1/projects/${datasetProject}/images/import`, 'archive', file);
  const importModel = (file: string) => measure(`/v1/projects/${kerasProject}/models`, 'model', file, keras);

  const rows: [string, number, Measured][] = [];
  console.error(`${new Date().toISOString()} Importing…`);
  rows.push([
    'dataset archive, 2 images (warm-up)',
    statSync(files.fewImages).size,
    await importImages(files.fewImages),
  ]);
  rows.push([`dataset archive, ${IMAGES} images`, statSync(files.images).size, await importImages(files.images)]);
  rows.push([
    'Keras .h5, 1 MiB of optimizer state (warm-up)',
    statSync(files.smallKeras).size,
    await importModel(files.smallKeras),
  ]);
  rows.push([
    `Keras .h5, ${OPTIMIZER_MIB} MiB of optimizer state`,
    statSync(files.optimizerKeras).size,
    await importModel(files.optimizerKeras),
  ]);
  rows.push([
    `Keras .h5, ${WEIGHTS_MIB} MiB of model weights`,
    statSync(files.wideKeras).size,
    await importModel(files.wideKeras),
  ]);

  console.log('| import | file | answer | RSS at rest | peak | slowest /health | time |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [what, bytes, m] of rows) {
    console.log(
      `| ${what} | ${(bytes / MiB).toFixed(0)} MiB | ${m.status} | ${m.restMiB.toFixed(0)} MiB | ` +
        `${m.peakMiB.toFixed(0)} MiB (+${(m.peakMiB - m.restMiB).toFixed(0)}) | ${m.slowestHealthMs.toFixed(0)} ms | ${m.seconds.toFixed(1)} s |`,
    );
  }
  console.log(`load average (1 min) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
} finally {
  await product.stop();
  rmSync(folder, { recursive: true, force: true });
}
