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
      ? tf.slice(
          x,
          [0, Math.max(0, -top), Math.max(0, -left), 0],
          [-1, height - Math.max(0, -top) - Math.max(0, -bottom), width - Math.max(0, -left) - Math.max(0, -right), -1],
        )
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
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      filterShape,
      [strideHeight, strideWidth],
      1,
      pad,
      dimRoundingMode,
    );
    const [filterHeight, filterWidth, inChannels, outChannels] = filterShape;
    // A 1×1 filter at stride 1 without padding: dW = xᵀ·dy over every pixel, one matrix product. As a convolution
    // it cost ~40% more (a detection head's 1×1 layer on 896 channels: 42 → 30 ms a batch of 32).
    const { top, left, bottom, right } = info.padInfo;
    if (
      filterHeight === 1 &&
      filterWidth === 1 &&
      strideHeight === 1 &&
      strideWidth === 1 &&
      !(top || left || bottom || right)
    )
      return tf.reshape(
        tf.matMul(tf.reshape(x, [-1, inChannels]), tf.reshape(dy, [-1, outChannels]), true, false),
        filterShape,
      );
    const neededHeight = (info.outHeight - 1) * strideHeight + filterHeight;
    const neededWidth = (info.outWidth - 1) * strideWidth + filterWidth;
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

/**
 * dx[n, i, j, ci] = Σ dy[n, i + top − kh, j + left − kw, co] · W[kh, kw, ci, co] (stride 1): a valid convolution of the
 * padded dy with the spatially flipped filter whose channel axes are swapped. Strided: by phases, below.
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
    if (stride[0] > 1 || stride[1] > 1) return inputGradientByPhases(dy, filter, info);
    const [filterHeight, filterWidth] = filter.shape;
    const [, dyHeight, dyWidth] = dy.shape;
    const padTop = filterHeight - 1 - info.padInfo.top;
    const padLeft = filterWidth - 1 - info.padInfo.left;
    const padded = padOrCrop(dy, [
      [padTop, info.inHeight + filterHeight - 1 - padTop - dyHeight],
      [padLeft, info.inWidth + filterWidth - 1 - padLeft - dyWidth],
    ]);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(padded, flipped, 1, 'valid');
  });
}

/** Along one axis: which dy offset q and filter tap k feed output phase a (output index s·i + a takes dy[i + q]·W[k]). */
interface AxisPhases {
  /** Smallest q over all phases: dy is shifted by it. */
  qMin: number;
  /** Rows (or columns) of the phase filter. */
  taps: number;
  /** tapOf[a][r]: the filter index for phase a at phase-filter row r, or −1 for none. */
  tapOf: number[][];
}

function axisPhases(filterSize: number, stride: number, padBefore: number): AxisPhases {
  const pairs: { a: number; q: number; k: number }[] = [];
  for (let a = 0; a < stride; a++) {
    for (let k = 0; k < filterSize; k++) {
      if ((((a + padBefore - k) % stride) + stride) % stride === 0)
        pairs.push({ a, q: (a + padBefore - k) / stride, k });
    }
  }
  const qMin = Math.min(...pairs.map((p) => p.q));
  const taps = Math.max(...pairs.map((p) => p.q)) - qMin + 1;
  const tapOf = Array.from({ length: stride }, () => new Array<number>(taps).fill(-1));
  for (const { a, q, k } of pairs) tapOf[a][q - qMin] = k;
  return { qMin, taps, tapOf };
}

/** For each phase-filter value, its index in the flattened filter (or the filter's size: zero); cached per geometry. */
const phaseFilterIndexes = new Map<string, Int32Array>();

function phaseFilterIndex(
  filterShape: readonly number[],
  rows: AxisPhases,
  columns: AxisPhases,
  strides: [number, number],
): Int32Array {
  const [filterHeight, filterWidth, inChannels, outChannels] = filterShape;
  const key = [
    filterShape.join(','),
    strides.join(','),
    rows.qMin,
    columns.qMin,
    rows.tapOf.flat().join(','),
    columns.tapOf.flat().join(','),
  ].join('|');
  const cached = phaseFilterIndexes.get(key);
  if (cached) return cached;
  const zero = filterHeight * filterWidth * inChannels * outChannels;
  const [strideHeight, strideWidth] = strides;
  const index = new Int32Array(rows.taps * columns.taps * outChannels * strideHeight * strideWidth * inChannels);
  let at = 0;
  for (let r = 0; r < rows.taps; r++)
    for (let c = 0; c < columns.taps; c++)
      for (let co = 0; co < outChannels; co++)
        for (let a = 0; a < strideHeight; a++)
          for (let b = 0; b < strideWidth; b++)
            for (let ci = 0; ci < inChannels; ci++) {
              const kh = rows.tapOf[a][r];
              const kw = columns.tapOf[b][c];
              index[at++] = kh < 0 || kw < 0 ? zero : ((kh * filterWidth + kw) * inChannels + ci) * outChannels + co;
            }
  phaseFilterIndexes.set(key, index);
  return index;
}

/**
 * Strided input gradient without dilating dy: output pixel (s·i + a, s·j + b) only ever meets the filter taps of its
 * phase (a, b), so one stride-1 convolution of dy with all s² phase filters side by side (as output channels) followed
 * by a depth-to-space rearrangement gives dx — none of the (s² − 1)/s² zero rows and columns a dilated dy would make the convolution
 * multiply through.
 */
function inputGradientByPhases(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { strideHeight, strideWidth, inHeight, inWidth, inChannels } = info;
  const [filterHeight, filterWidth, , outChannels] = filter.shape;
  const rows = axisPhases(filterHeight, strideHeight, info.padInfo.top);
  const columns = axisPhases(filterWidth, strideWidth, info.padInfo.left);
  const phaseHeight = Math.ceil(inHeight / strideHeight);
  const phaseWidth = Math.ceil(inWidth / strideWidth);
  const [, dyHeight, dyWidth] = dy.shape;
  // dy rows i + qMin … i + qMin + taps − 1 for i in [0, phaseHeight): shift by qMin, then extend (zeros) or cut.
  const shifted = padOrCrop(dy, [
    [-rows.qMin, phaseHeight + rows.taps - 1 + rows.qMin - dyHeight],
    [-columns.qMin, phaseWidth + columns.taps - 1 + columns.qMin - dyWidth],
  ]);
  const index = phaseFilterIndex(filter.shape, rows, columns, [strideHeight, strideWidth]);
  // A few thousand values: rearranged in JavaScript (wasm's GatherV2 took ~0.4 ms for this).
  const weights = filter.dataSync() as Float32Array;
  const phaseValues = new Float32Array(index.length);
  for (let i = 0; i < index.length; i++) phaseValues[i] = index[i] < weights.length ? weights[index[i]] : 0;
  const phaseFilter = tf.tensor4d(phaseValues, [
    rows.taps,
    columns.taps,
    outChannels,
    strideHeight * strideWidth * inChannels,
  ]);
  const phases = tf.conv2d(shifted, phaseFilter, 1, 'valid');
  const interleaved = interleavePhases(phases, strideHeight, strideWidth, inChannels);
  return interleaved.shape[1] === inHeight && interleaved.shape[2] === inWidth
    ? interleaved
    : tf.slice(interleaved, [0, 0, 0, 0], [-1, inHeight, inWidth, -1]);
}

/** DepthToSpace ([n, h, w, (a·sw + b)·c] → [n, h·sh, w·sw, c]) as one transpose: wasm's DepthToSpace is far slower. */
function interleavePhases(
  phases: tf.Tensor4D,
  strideHeight: number,
  strideWidth: number,
  channels: number,
): tf.Tensor4D {
  const [batch, height, width] = phases.shape;
  const split = tf.reshape(phases, [batch * height, width, strideHeight, strideWidth * channels]);
  const rowsFirst = tf.transpose(split, [0, 2, 1, 3]);
  return tf.reshape(rowsFirst, [batch, height * strideHeight, width * strideWidth, channels]);
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
