import * as tf from '@tensorflow/tfjs-core';

/**
 * Convolution gradients expressed as ordinary forward convolutions, so that a backend's (fast) Conv2D does the
 * work. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter at all and a slow Conv2DBackpropInput; the cpu
 * backend's versions are plain JS loops. Only NHWC with a dilation of 1 is handled, which is what gradients of
 * tfjs-core's conv2d ever ask for.
 */

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Strides = [number, number] | number;
type RoundingMode = 'floor' | 'round' | 'ceil' | undefined;

/** Per spatial axis, [before, after]: positive values add zero rows/columns, negative values drop them. */
type SpatialPadding = [[number, number], [number, number]];

function padOrCrop(x: tf.Tensor4D, [[top, bottom], [left, right]]: SpatialPadding): tf.Tensor4D {
  const [, height, width] = x.shape;
  const cropped =
    top < 0 || bottom < 0 || left < 0 || right < 0
      ? tf.slice(x, [0, Math.max(0, -top), Math.max(0, -left), 0], [-1, height - Math.max(0, -top) - Math.max(0, -bottom), width - Math.max(0, -left) - Math.max(0, -right), -1])
      : x;
  const padding: [number, number][] = [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
  return padding.some(([before, after]) => before > 0 || after > 0) ? tf.pad(cropped, padding) : cropped;
}

function stridePair(strides: Strides): [number, number] {
  return typeof strides === 'number' ? [strides, strides] : strides;
}

/**
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} xPadded[n, oh·s + kh, ow·s + kw, ci] · dy[n, oh, ow, co]: a valid convolution of
 * x as [ci, H, W, n] by dy as an [oh, ow, n, co] filter dilated by the stride, giving [ci, kh, kw, co].
 */
export function conv2dBackpropFilterByConv2d(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Strides,
  pad: Pad,
  dimRoundingMode?: RoundingMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [strideHeight, strideWidth] = stridePair(strides);
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, [strideHeight, strideWidth], 1, pad, dimRoundingMode);
    const [filterHeight, filterWidth] = filterShape;
    const neededHeight = (info.outHeight - 1) * strideHeight + filterHeight;
    const neededWidth = (info.outWidth - 1) * strideWidth + filterWidth;
    const { top, left } = info.padInfo;
    const padded = padOrCrop(x, [
      [top, neededHeight - top - info.inHeight],
      [left, neededWidth - left - info.inWidth],
    ]);
    const channelsAsBatch = tf.transpose(padded, [3, 1, 2, 0]);
    const dyAsFilter = tf.transpose(dy, [1, 2, 0, 3]);
    const gradient = tf.conv2d(channelsAsBatch, dyAsFilter, 1, 'valid', 'NHWC', [strideHeight, strideWidth]);
    return tf.transpose(gradient, [1, 2, 0, 3]);
  });
}

/** Puts stride − 1 zeros after every row and column of dy, turning a strided gradient into a stride-1 one. */
function dilate(dy: tf.Tensor4D, [strideHeight, strideWidth]: [number, number]): tf.Tensor4D {
  if (strideHeight === 1 && strideWidth === 1) return dy;
  const [batch, height, width, channels] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [batch, height, 1, width, 1, channels]), [
    [0, 0],
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [batch, height * strideHeight, width * strideWidth, channels]);
}

/**
 * dx[n, i, j, ci] = Σ dyDilated[n, i + top − kh, j + left − kw, co] · W[kh, kw, ci, co]: a valid convolution of the
 * (dilated, padded) dy with the spatially flipped filter whose channel axes are swapped.
 */
export function conv2dBackpropInputByConv2d(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: Strides,
  pad: Pad,
  dimRoundingMode?: RoundingMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const stride = stridePair(strides);
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, stride, 1, pad, dimRoundingMode);
    const [filterHeight, filterWidth] = filter.shape;
    const dilated = dilate(dy, stride);
    const [, dilatedHeight, dilatedWidth] = dilated.shape;
    const padTop = filterHeight - 1 - info.padInfo.top;
    const padLeft = filterWidth - 1 - info.padInfo.left;
    const padded = padOrCrop(dilated, [
      [padTop, info.inHeight + filterHeight - 1 - padTop - dilatedHeight],
      [padLeft, info.inWidth + filterWidth - 1 - padLeft - dilatedWidth],
    ]);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(padded, flipped, 1, 'valid');
  });
}

interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: RoundingMode;
  filterShape: [number, number, number, number];
}

interface Conv2DBackpropInputAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: RoundingMode;
  inputShape: [number, number, number, number];
}

function requireChannelsLast(dataFormat: string, kernelName: string): void {
  if (dataFormat !== 'NHWC') throw new Error(`${kernelName} replacement supports NHWC only, got ${dataFormat}`);
}

/** Gradient ops invoke these kernels through the engine with the op's own input tensors. */
function asTensor4D(info: tf.TensorInfo): tf.Tensor4D {
  if (!(info instanceof tf.Tensor)) throw new TypeError('expected a tensor input');
  return info as tf.Tensor4D;
}

export function conv2dBackpropFilterKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
      requireChannelsLast(dataFormat, tf.Conv2DBackpropFilter);
      const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
      return conv2dBackpropFilterByConv2d(asTensor4D(x), asTensor4D(dy), filterShape, strides, pad, dimRoundingMode);
    },
  };
}

export function conv2dBackpropInputKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropInput,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
      requireChannelsLast(dataFormat, tf.Conv2DBackpropInput);
      const { dy, filter } = inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      return conv2dBackpropInputByConv2d(asTensor4D(dy), asTensor4D(filter), inputShape, strides, pad, dimRoundingMode);
    },
  };
}
