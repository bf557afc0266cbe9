import * as tf from '@tensorflow/tfjs-core';

type PoolSize = [number, number] | number;
type Pad = 'valid' | 'same' | number;

/** Smallest positive normal float32: wasm's MaxPoolWithArgmax starts its running maximum here, not at −∞. */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * MaxPool gradient as "where was each maximum" (MaxPoolWithArgmax, native in wasm) followed by a scatter of dy to
 * those positions; overlapping windows add up. wasm's built-in MaxPoolGrad loops over every window for every input
 * element and was the slowest op of a small CNN's training step.
 */
export function maxPoolGradByArgmax(dy: tf.Tensor4D, input: tf.Tensor4D, filterSize: PoolSize, strides: PoolSize, pad: Pad): tf.Tensor4D {
  return tf.tidy(() => {
    // wasm 4.22 reports index 0 for a window without a positive value, so shift such inputs above zero first
    // (order-preserving; ties stay ties). Of tied maxima wasm picks the last, the cpu backend the first: both are
    // valid subgradients.
    const lowest = tf.min(input).dataSync()[0];
    const positive = lowest > FLOAT32_MIN_NORMAL ? input : tf.add<tf.Tensor4D>(input, 1 - lowest);
    const { indexes } = tf.maxPoolWithArgmax(positive, filterSize, strides, pad, true);
    const flatSize = input.size;
    const scattered = tf.scatterND(tf.reshape(indexes, [-1, 1]), tf.reshape(dy, [-1]), [flatSize]);
    return tf.reshape(scattered, input.shape);
  });
}

interface MaxPoolGradAttrs {
  filterSize: PoolSize;
  strides: PoolSize;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Rounding modes change the output size in ways MaxPoolWithArgmax does not model; those go to the built-in. */
export function maxPoolGradKernel(backendName: string, builtIn?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.MaxPoolGrad,
    backendName,
    setupFunc: builtIn?.setupFunc,
    kernelFunc: (args) => {
      const { dy, input } = args.inputs as unknown as { dy: tf.Tensor4D; input: tf.Tensor4D };
      const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
      if (dimRoundingMode == null && dy instanceof tf.Tensor && input instanceof tf.Tensor) {
        return maxPoolGradByArgmax(dy, input, filterSize, strides, pad);
      }
      if (!builtIn) throw new Error(`MaxPoolGrad on ${backendName}: rounding modes are not supported`);
      return builtIn.kernelFunc(args);
    },
  };
}
