import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '../random/seeded-random.js';
import { selectBackend } from './backend-selection.js';
import { registerGradientKernels } from './gradient-kernels.js';

interface ConvCase {
  input: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number | [number, number];
  pad: 'same' | 'valid';
}

const cases: ConvCase[] = [
  { input: [2, 8, 8, 1], filter: [3, 3, 1, 4], stride: 1, pad: 'same' },
  { input: [3, 9, 7, 3], filter: [3, 3, 3, 5], stride: 1, pad: 'valid' },
  { input: [2, 9, 9, 2], filter: [3, 3, 2, 3], stride: 2, pad: 'same' },
  { input: [2, 10, 7, 3], filter: [3, 2, 3, 4], stride: 2, pad: 'valid' },
  { input: [1, 11, 11, 4], filter: [5, 5, 4, 2], stride: 2, pad: 'same' },
  { input: [4, 6, 6, 8], filter: [1, 1, 8, 6], stride: 1, pad: 'valid' },
  { input: [3, 5, 7, 9], filter: [1, 1, 9, 4], stride: 1, pad: 'same' },
  { input: [2, 7, 7, 3], filter: [1, 1, 3, 2], stride: 2, pad: 'valid' },
  { input: [2, 7, 8, 2], filter: [4, 4, 2, 3], stride: 3, pad: 'same' },
  { input: [2, 14, 14, 4], filter: [3, 3, 4, 6], stride: 2, pad: 'same' },
  { input: [2, 9, 10, 3], filter: [3, 3, 3, 2], stride: [2, 3], pad: 'same' },
  { input: [1, 12, 11, 2], filter: [5, 3, 2, 3], stride: [3, 2], pad: 'valid' },
];

function randomValues(shape: number[], random: SeededRandom): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => random.uniform(-1, 1)),
    shape,
  );
}

/** Gradients of Σ(conv2d(x, w) · upstream) with respect to x and w, computed on `backend`. */
async function convGradients(
  backend: string,
  testCase: ConvCase,
  seed: number,
): Promise<{ dx: Float32Array; dw: Float32Array }> {
  await tf.setBackend(backend);
  const random = new SeededRandom(seed);
  return tf.tidy(() => {
    const x = randomValues(testCase.input, random) as tf.Tensor4D;
    const w = randomValues(testCase.filter, random) as tf.Tensor4D;
    const out = tf.conv2d(x, w, testCase.stride, testCase.pad);
    const upstream = randomValues(out.shape, random);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, testCase.stride, testCase.pad), upstream)),
    )([x, w]);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

interface PoolCase {
  input: [number, number, number, number];
  window: number;
  stride: number;
  pad: 'same' | 'valid';
  /** When set, inputs take only this many distinct values, so windows hold tied maxima. */
  levels?: number;
}

const poolCases: PoolCase[] = [
  { input: [2, 8, 8, 3], window: 2, stride: 2, pad: 'valid' },
  { input: [2, 9, 7, 2], window: 2, stride: 2, pad: 'same' },
  { input: [1, 9, 9, 4], window: 3, stride: 2, pad: 'valid' },
  { input: [3, 7, 8, 2], window: 3, stride: 2, pad: 'same' },
  { input: [2, 6, 6, 1], window: 3, stride: 1, pad: 'same' },
];

async function poolGradient(backend: string, testCase: PoolCase, seed: number): Promise<Float32Array> {
  await tf.setBackend(backend);
  const random = new SeededRandom(seed);
  return tf.tidy(() => {
    const size = testCase.input.reduce((a, b) => a * b, 1);
    const levels = testCase.levels;
    const values = Float32Array.from({ length: size }, () => (levels ? random.integer(levels) : random.uniform(-1, 1)));
    const x = tf.tensor4d(values, testCase.input);
    const pooled = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, testCase.window, testCase.stride, testCase.pad);
    const upstream = randomValues(pooled(x).shape, random);
    return tf
      .grad((a: tf.Tensor) => tf.sum(tf.mul(pooled(a), upstream)))(x)
      .dataSync() as Float32Array;
  });
}

interface MatMulCase {
  a: [number, number];
  b: [number, number];
  transposeA: boolean;
  transposeB: boolean;
}

/** Shapes as stored; the products take [m, k]·[k, n] after the transposes. Both orientations of the rewrite occur. */
const matMulCases: MatMulCase[] = [
  { a: [32, 1568], b: [32, 64], transposeA: true, transposeB: false },
  { a: [32, 64], b: [1568, 64], transposeA: false, transposeB: true },
  { a: [5, 3], b: [5, 7], transposeA: true, transposeB: false },
  { a: [7, 6], b: [4, 6], transposeA: false, transposeB: true },
  { a: [6, 9], b: [2, 6], transposeA: true, transposeB: true },
  { a: [6, 2], b: [9, 6], transposeA: true, transposeB: true },
  { a: [1, 12], b: [12, 1], transposeA: false, transposeB: false },
];

/** The product and its gradients (which ask for transposed products themselves), computed on `backend`. */
async function matMulResults(backend: string, testCase: MatMulCase, seed: number): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const random = new SeededRandom(seed);
  return tf.tidy(() => {
    const a = randomValues(testCase.a, random) as tf.Tensor2D;
    const b = randomValues(testCase.b, random) as tf.Tensor2D;
    const product = (x: tf.Tensor, y: tf.Tensor) =>
      tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, testCase.transposeA, testCase.transposeB);
    const upstream = randomValues(product(a, b).shape, random);
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(product(x, y), upstream)))([a, b]);
    return [product(a, b), da, db].map((t) => t.dataSync() as Float32Array);
  });
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i])), 0);
}

describe('replacement gradient kernels on wasm', () => {
  beforeAll(async () => {
    // The cpu backend serves only as the reference here; silence its "install tfjs-node" advice. Selecting wasm
    // replaces wasm's kernels only, so cpu still runs its built-in ones.
    tf.env().set('IS_TEST', true);
    expect(await selectBackend('wasm')).toBe('wasm');
  });

  it.each(cases)(
    'conv2d gradients match the cpu reference for input $input, filter $filter, stride $stride, $pad',
    async (testCase) => {
      const reference = await convGradients('cpu', testCase, 7);
      const replaced = await convGradients('wasm', testCase, 7);
      expect(maxDifference(replaced.dw, reference.dw)).toBeLessThan(1e-4);
      expect(maxDifference(replaced.dx, reference.dx)).toBeLessThan(1e-4);
      expect(Math.max(...reference.dw.map(Math.abs))).toBeGreaterThan(0.1);
    },
  );

  it.each(poolCases)(
    'maxPool gradient matches the cpu reference for input $input, window $window, stride $stride, $pad',
    async (testCase) => {
      const reference = await poolGradient('cpu', testCase, 3);
      const replaced = await poolGradient('wasm', testCase, 3);
      expect(maxDifference(replaced, reference)).toBeLessThan(1e-5);
      expect(Math.max(...reference.map(Math.abs))).toBeGreaterThan(0.1);
    },
  );

  it('gives each window with tied maxima its whole gradient at one of those maxima', async () => {
    const tied: PoolCase = { input: [2, 6, 6, 3], window: 2, stride: 2, pad: 'valid', levels: 2 };
    const random = new SeededRandom(5);
    const size = tied.input.reduce((a, b) => a * b, 1);
    const inputs = Float32Array.from({ length: size }, () => random.integer(2));
    const reference = await poolGradient('cpu', tied, 5);
    const replaced = await poolGradient('wasm', tied, 5);
    // wasm now picks the first maximum in row-major order, as the cpu backend does.
    expect(maxDifference(replaced, reference)).toBe(0);
    const [batch, height, width, channels] = tied.input;
    const at = (b: number, y: number, x: number, c: number) => ((b * height + y) * width + x) * channels + c;
    for (let b = 0; b < batch; b++)
      for (let y = 0; y < height; y += 2)
        for (let x = 0; x < width; x += 2)
          for (let c = 0; c < channels; c++) {
            const cells = [at(b, y, x, c), at(b, y, x + 1, c), at(b, y + 1, x, c), at(b, y + 1, x + 1, c)];
            const windowMax = Math.max(...cells.map((i) => inputs[i]));
            const sum = (gradient: Float32Array) => cells.reduce((total, i) => total + gradient[i], 0);
            expect(sum(replaced)).toBeCloseTo(sum(reference), 6);
            expect(cells.filter((i) => replaced[i] !== 0).length).toBeLessThanOrEqual(1);
            for (const i of cells) if (replaced[i] !== 0) expect(inputs[i]).toBe(windowMax);
          }
  });

  it.each(matMulCases)(
    'matMul of $a by $b (transposeA $transposeA, transposeB $transposeB) and its gradients match the cpu reference',
    async (testCase) => {
      const reference = await matMulResults('cpu', testCase, 13);
      const replaced = await matMulResults('wasm', testCase, 13);
      reference.forEach((values, i) => expect(maxDifference(replaced[i], values)).toBeLessThan(1e-4));
    },
  );

  it('rewrites transposed products for XNNPACK instead of leaving them to the built-in kernel', async () => {
    await tf.setBackend('wasm');
    const kernel = tf.getKernel(tf.BatchMatMul, 'wasm')!;
    const [a, b] = [tf.ones([3, 1, 4]), tf.ones([1, 5, 4])];
    const calls: tf.NamedAttrMap[] = [];
    const spy = {
      ...kernel,
      kernelFunc: (args: Parameters<tf.KernelFunc>[0]) => (calls.push(args.attrs ?? {}), kernel.kernelFunc(args)),
    };
    tf.unregisterKernel(tf.BatchMatMul, 'wasm');
    tf.registerKernel(spy);
    try {
      const product = tf.tidy(() => tf.matMul(tf.reshape(a, [3, 4]), tf.reshape(b, [5, 4]), false, true).dataSync());
      expect(Array.from(product)).toEqual(new Array(15).fill(4));
    } finally {
      tf.unregisterKernel(tf.BatchMatMul, 'wasm');
      tf.registerKernel(kernel);
      tf.dispose([a, b]);
    }
    expect(calls.map(({ transposeA, transposeB }) => [transposeA, transposeB])).toEqual([
      [false, true],
      [false, false],
    ]);
  });

  it('clones by sharing data: the clone outlives its source and releases the memory with the last reference', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numBytes;
    const source = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const clone = tf.clone(source);
    expect(clone.dataId).toBe(source.dataId);
    source.dispose();
    expect(Array.from(clone.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(clone.shape).toEqual([2, 3]);
    clone.dispose();
    expect(tf.memory().numBytes).toBe(before);
    tf.tidy(() => {
      const strings = tf.tensor1d(['a', 'b'], 'string');
      expect(tf.clone(strings).dataSync()).toEqual(['a', 'b']);
    });
  });

  it('does not leak tensors', async () => {
    await tf.setBackend('wasm');
    const testCase = cases[2];
    await convGradients('wasm', testCase, 1);
    const before = tf.memory().numTensors;
    await convGradients('wasm', testCase, 2);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('replacement gradient kernels on cpu', () => {
  it('match the built-in cpu kernels they replace', async () => {
    tf.env().set('IS_TEST', true);
    const convCase = cases[2];
    const poolCase = poolCases[3];
    const builtInConv = await convGradients('cpu', convCase, 11);
    const builtInPool = await poolGradient('cpu', poolCase, 11);
    expect(registerGradientKernels('cpu')).toEqual(['Conv2DBackpropFilter', 'MaxPoolGrad', 'DiymlAdamUpdate']);
    const replacedConv = await convGradients('cpu', convCase, 11);
    expect(maxDifference(replacedConv.dw, builtInConv.dw)).toBeLessThan(1e-4);
    expect(maxDifference(replacedConv.dx, builtInConv.dx)).toBe(0);
    expect(maxDifference(await poolGradient('cpu', poolCase, 11), builtInPool)).toBeLessThan(1e-6);
  });
});
