import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE } from '../backend/adam-update.kernel.js';
import { selectBackend } from '../backend/backend-selection.js';
import { registerGradientKernels } from '../backend/gradient-kernels.js';
import { SeededRandom } from '../random/seeded-random.js';
import { AdamOptimizer } from './adam-optimizer.js';

/** Weights after `steps` Adam steps on a small least-squares problem, starting from seeded values. */
function trainWith(optimizer: tf.Optimizer, steps: number): Float32Array[] {
  const random = new SeededRandom(3);
  const values = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.uniform(-1, 1)),
      shape,
    );
  const weights = tf.tidy(() => tf.variable(values([5, 3]) as tf.Tensor2D));
  const bias = tf.tidy(() => tf.variable(values([3]) as tf.Tensor1D));
  const inputs = values([8, 5]) as tf.Tensor2D;
  const targets = values([8, 3]);
  for (let step = 0; step < steps; step++) {
    optimizer.minimize(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(inputs, weights), bias), targets))), false, [
      weights,
      bias,
    ]);
  }
  const result = [weights.dataSync() as Float32Array, bias.dataSync() as Float32Array];
  tf.dispose([weights, bias, inputs, targets]);
  optimizer.dispose();
  return result;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i])), 0);
}

describe('AdamOptimizer', () => {
  it.each(['wasm', 'cpu'])(
    'takes the same steps as tfjs-core Adam on %s, with the fused kernel, leaving no tensors behind',
    async (backend) => {
      tf.env().set('IS_TEST', true);
      await selectBackend(backend as 'wasm' | 'cpu');
      await tf.setBackend(backend);
      registerGradientKernels(backend);
      expect(tf.getKernel(ADAM_UPDATE, backend)).toBeDefined();
      const before = tf.memory().numTensors;
      const reference = trainWith(tf.train.adam(0.05), 12);
      const fused = trainWith(new AdamOptimizer(0.05), 12);
      fused.forEach((values, i) => expect(maxDifference(values, reference[i])).toBeLessThan(1e-5));
      expect(maxDifference(fused[0], trainWith(new AdamOptimizer(0.05), 0)[0])).toBeGreaterThan(0.1);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('falls back to tensor ops on a backend without the fused kernel', async () => {
    await tf.setBackend('cpu');
    const kernel = tf.getKernel(ADAM_UPDATE, 'cpu');
    if (kernel) tf.unregisterKernel(ADAM_UPDATE, 'cpu');
    try {
      const reference = trainWith(tf.train.adam(0.05), 12);
      const unfused = trainWith(new AdamOptimizer(0.05), 12);
      unfused.forEach((values, i) => expect(maxDifference(values, reference[i])).toBeLessThan(1e-5));
    } finally {
      if (kernel) tf.registerKernel(kernel);
    }
  });
});
