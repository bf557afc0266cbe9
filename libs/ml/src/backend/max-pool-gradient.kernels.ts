import * as tf from '@tensorflow/tfjs-core';
import { tensorMemory } from './heap-access.js';

type PoolSize = [number, number] | number;
type Pad = 'valid' | 'same' | number;

/** Smallest positive normal float32: wasm's MaxPoolWithArgmax starts its running maximum here, not at −∞. */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * MaxPool gradient as "where was each maximum" (MaxPoolWithArgmax, native in wasm) followed by a scatter of dy to
 * those positions; overlapping windows add up. wasm's built-in MaxPoolGrad loops over every window for every input
 * element and was the slowest op of a small CNN's training step.
 */
export function maxPoolGradByArgmax(
  dy: tf.Tensor4D,
  input: tf.Tensor4D,
  filterSize: PoolSize,
  strides: PoolSize,
  pad: Pad,
): tf.Tensor4D {
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

/**
 * MaxPool gradient in one pass of plain JavaScript over the backend's memory: each window's dy goes to the window's
 * first maximum in row-major order (padding never wins), exactly as the cpu backend's own kernel decides, ties
 * included. On wasm this replaces MaxPoolWithArgmax + a min/shift + ScatterNd (about 4 ms per 2×2 pool of
 * 32×28×28×16 under load) with a loop of under 1 ms.
 */
export function maxPoolGradInto(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: channels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    filterHeight,
    filterWidth,
  } = info;
  const { top, left } = info.padInfo;
  dx.fill(0);
  if (
    filterHeight === 2 &&
    filterWidth === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    top === 0 &&
    left === 0 &&
    2 * outHeight <= inHeight &&
    2 * outWidth <= inWidth
  ) {
    maxPool2x2GradInto(x, dy, dx, info);
    return;
  }
  for (let b = 0; b < batchSize; b++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      const rowStart = outRow * strideHeight - top;
      const rowFrom = Math.max(0, rowStart);
      const rowTo = Math.min(inHeight, rowStart + filterHeight);
      for (let outColumn = 0; outColumn < outWidth; outColumn++) {
        const columnStart = outColumn * strideWidth - left;
        const columnFrom = Math.max(0, columnStart);
        const columnTo = Math.min(inWidth, columnStart + filterWidth);
        const dyBase = ((b * outHeight + outRow) * outWidth + outColumn) * channels;
        for (let d = 0; d < channels; d++) {
          let best = -Infinity;
          let bestAt = -1;
          for (let row = rowFrom; row < rowTo; row++) {
            const rowBase = (b * inHeight + row) * inWidth;
            for (let column = columnFrom; column < columnTo; column++) {
              const at = (rowBase + column) * channels + d;
              const value = x[at];
              if (value > best) {
                best = value;
                bestAt = at;
              }
            }
          }
          if (bestAt >= 0) dx[bestAt] += dy[dyBase + d];
        }
      }
    }
  }
}

/** The usual 2×2 / stride-2 windows, all inside the input: four reads, then the first maximum gets dy. */
function maxPool2x2GradInto(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const rowStride = inWidth * channels;
  let out = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      let base = (b * inHeight + 2 * outRow) * rowStride;
      for (let outColumn = 0; outColumn < outWidth; outColumn++, base += 2 * channels) {
        for (let d = 0; d < channels; d++, out++) {
          const upperLeft = base + d;
          const lowerLeft = upperLeft + rowStride;
          const a = x[upperLeft];
          const b1 = x[upperLeft + channels];
          const c = x[lowerLeft];
          const d1 = x[lowerLeft + channels];
          // Second of a pair wins only when strictly larger: row-major first maximum, as the cpu backend picks.
          const upperAt = b1 > a ? upperLeft + channels : upperLeft;
          const lowerAt = d1 > c ? lowerLeft + channels : lowerLeft;
          dx[(c > d1 ? c : d1) > (a > b1 ? a : b1) ? lowerAt : upperAt] = dy[out];
        }
      }
    }
  }
}

interface MaxPoolGradAttrs {
  filterSize: PoolSize;
  strides: PoolSize;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * wasm and cpu: the JavaScript loop above, on float32 data in this thread's memory. Elsewhere (or for other dtypes)
 * the argmax version, and rounding modes, which MaxPoolWithArgmax does not model, go to the built-in.
 */
export function maxPoolGradKernel(backendName: string, builtIn?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.MaxPoolGrad,
    backendName,
    setupFunc: builtIn?.setupFunc,
    kernelFunc: (args) => {
      const { dy, input } = args.inputs as unknown as { dy: tf.Tensor4D; input: tf.Tensor4D };
      const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
      const memory = tensorMemory(args.backend);
      if (memory && dy.dtype === 'float32' && input.dtype === 'float32') {
        const info = tf.backend_util.computePool2DInfo(input.shape, filterSize, strides, 1, pad, dimRoundingMode);
        const dx = memory.allocate([...input.shape]);
        maxPoolGradInto(memory.values(input), memory.values(dy), memory.values(dx), info);
        return dx;
      }
      if (dimRoundingMode == null && dy instanceof tf.Tensor && input instanceof tf.Tensor) {
        return maxPoolGradByArgmax(dy, input, filterSize, strides, pad);
      }
      if (!builtIn) throw new Error(`MaxPoolGrad on ${backendName}: rounding modes are not supported`);
      return builtIn.kernelFunc(args);
    },
  };
}
