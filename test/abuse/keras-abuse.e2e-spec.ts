import { afterAll, describe, expect, it } from 'vitest';
import h5wasm from 'h5wasm/node';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KerasImportError, readKerasOnThread } from '@diyml/ml';
import { keras2Sequential } from '../fixtures/keras/keras-fixtures.js';

/**
 * A liveness bound, as for /health in the HTTP abuse tests (scaled the same way by the load per core, see
 * expectStayedLive): a blocked event loop misses it by seconds. Unscaled, a stall of 2.2 s failed it at load 3.5
 * per core in CI.
 */
const EVENT_LOOP_BOUND_MS = 1000;
const loadPerCore = () => loadavg()[0] / availableParallelism();
const LIMITS = { maxFileBytes: 64 * 1024 * 1024, maxWeightBytes: 64 * 1024 * 1024, timeoutMs: 60_000 };

const folder = mkdtempSync(join(tmpdir(), 'keras-abuse-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/**
 * A Keras 2 .h5 of a few kilobytes whose one weight array declares a billion float32 values (4 GB): chunks
 * never written read as zeros, so reading the array would allocate all of it. Answers its path.
 */
async function kerasDeclaringHugeWeights(): Promise<string> {
  await h5wasm.ready;
  const path = join(folder, 'huge.h5');
  const file = new h5wasm.File(path, 'w');
  file.create_attribute(
    'model_config',
    JSON.stringify({ class_name: 'Sequential', config: { name: 'huge', layers: [] } }),
  );
  const weights = file.create_group('model_weights');
  weights.create_attribute('layer_names', ['dense']);
  const layer = weights.create_group('dense');
  layer.create_attribute('weight_names', ['kernel:0']);
  const kernel = layer.create_dataset({
    name: 'kernel:0',
    data: new Float32Array(1024),
    shape: [1024],
    maxshape: [null],
    chunks: [1024],
    dtype: '<f',
    compression: 'gzip',
  });
  kernel.resize([1_000_000_000]);
  file.close();
  return path;
}

/**
 * Runs `work` while timing a 50 ms interval: answers the result, the longest the event loop was held, and the bound
 * for it at the machine's load.
 */
async function watchingEventLoop<T>(
  work: () => Promise<T>,
): Promise<{ outcome: T | KerasImportError; longestStallMs: number; boundMs: number }> {
  let last = performance.now();
  let longestStallMs = 0;
  let busiest = loadPerCore();
  const timer = setInterval(() => {
    const now = performance.now();
    longestStallMs = Math.max(longestStallMs, now - last - 50);
    last = now;
  }, 50);
  try {
    const outcome = await work().catch((error: unknown) => {
      if (error instanceof KerasImportError) return error;
      throw error;
    });
    busiest = Math.max(busiest, loadPerCore());
    return { outcome, longestStallMs, boundMs: EVENT_LOOP_BOUND_MS * Math.max(1, busiest) };
  } finally {
    clearInterval(timer);
  }
}

describe('Keras files read off the event loop', () => {
  it('refuses an .h5 of a few KB declaring 4 GB of weights with KERAS_FILE_TOO_LARGE, the event loop staying free', async () => {
    const path = await kerasDeclaringHugeWeights();
    expect(statSync(path).size).toBeLessThan(64 * 1024);
    const { outcome, longestStallMs, boundMs } = await watchingEventLoop(() =>
      readKerasOnThread({ kind: 'keras-h5', path }, LIMITS),
    );
    expect(outcome).toBeInstanceOf(KerasImportError);
    expect((outcome as KerasImportError).code).toBe('KERAS_FILE_TOO_LARGE');
    expect(longestStallMs).toBeLessThan(boundMs);
  }, 180_000);

  it('reads a genuine Keras 2 model on the thread, and stops a read that outlasts its time limit with KERAS_READ_TIMEOUT', async () => {
    const path = join(folder, 'sequential.h5');
    writeFileSync(path, await keras2Sequential());
    const file = await readKerasOnThread({ kind: 'keras-h5', path }, LIMITS);
    expect(file.format).toBe('keras-h5');
    expect([...file.weights.keys()].length).toBeGreaterThan(0);
    expect([...file.weights.values()].flat().every((weight) => weight.values instanceof Float32Array)).toBe(true);

    const late = await readKerasOnThread({ kind: 'keras-h5', path }, { ...LIMITS, timeoutMs: 1 }).catch(
      (error: KerasImportError) => error,
    );
    expect(late).toMatchObject({ code: 'KERAS_READ_TIMEOUT' });
    const large = await readKerasOnThread({ kind: 'keras-h5', path }, { ...LIMITS, maxFileBytes: 1024 }).catch(
      (error: KerasImportError) => error,
    );
    expect(large).toMatchObject({ code: 'KERAS_FILE_TOO_LARGE' });
  }, 180_000);
});
