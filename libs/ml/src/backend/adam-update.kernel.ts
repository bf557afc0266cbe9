import * as tf from '@tensorflow/tfjs-core';
import { tensorMemory } from './heap-access.js';

/** A kernel of our own (no backend has one by this name): one Adam step for one variable, in one pass. */
export const ADAM_UPDATE = 'DiymlAdamUpdate';

export interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − beta1^t and 1 − beta2^t for the step t (from 1). */
  firstCorrection: number;
  secondCorrection: number;
}

/**
 * m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  value ← value − lr · (m / c1) / (√(v / c2) + ε)
 * — tfjs-core's Adam, without its thirteen tensor ops (and their allocations) per variable and step.
 */
export function adamUpdateInto(
  value: Float32Array,
  gradient: Float32Array,
  m: Float32Array,
  v: Float32Array,
  out: [Float32Array, Float32Array, Float32Array],
  attrs: AdamUpdateAttrs,
): void {
  const { learningRate, beta1, beta2, epsilon, firstCorrection, secondCorrection } = attrs;
  const [newValue, newM, newV] = out;
  const stepSize = learningRate / firstCorrection;
  const secondScale = 1 / secondCorrection;
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  for (let i = 0; i < value.length; i++) {
    const g = gradient[i];
    const mi = beta1 * m[i] + oneMinusBeta1 * g;
    const vi = beta2 * v[i] + oneMinusBeta2 * g * g;
    newM[i] = mi;
    newV[i] = vi;
    newValue[i] = value[i] - (stepSize * mi) / (Math.sqrt(vi * secondScale) + epsilon);
  }
}

/** For backends whose float32 data lives in this thread (wasm, cpu): outputs [value, m, v]. */
export function adamUpdateKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: ADAM_UPDATE,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { value, gradient, m, v } = inputs as {
        value: tf.TensorInfo;
        gradient: tf.TensorInfo;
        m: tf.TensorInfo;
        v: tf.TensorInfo;
      };
      const memory = tensorMemory(backend);
      if (!memory) throw new Error(`${ADAM_UPDATE}: backend ${backendName} keeps its data out of reach`);
      if ([value, gradient, m, v].some((t) => t.dtype !== 'float32'))
        throw new Error(`${ADAM_UPDATE} takes float32 tensors`);
      const outputs = [
        memory.allocate([...value.shape]),
        memory.allocate([...value.shape]),
        memory.allocate([...value.shape]),
      ];
      const [newValue, newM, newV] = outputs.map((output) => memory.values(output));
      adamUpdateInto(
        memory.values(value),
        memory.values(gradient),
        memory.values(m),
        memory.values(v),
        [newValue, newM, newV],
        attrs as unknown as AdamUpdateAttrs,
      );
      return outputs;
    },
  };
}
