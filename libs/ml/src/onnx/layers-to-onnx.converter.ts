import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { foldBatchNormalization } from './batch-norm-folding.js';
import { OnnxGraphBuilder } from './onnx-graph-builder.js';
import { encodeModel, type OnnxDimension } from './onnx-proto.js';

/** A layer (or a layer's activation) the converter has no ONNX translation for. */
export class UnsupportedLayerError extends Error {
  constructor(
    readonly layerType: string,
    readonly layerName: string,
    detail?: string,
  ) {
    super(`cannot convert layer '${layerName}' of type ${layerType} to ONNX${detail ? `: ${detail}` : ''}`);
    this.name = 'UnsupportedLayerError';
  }
}

export interface OnnxConversionOptions {
  /** Layers whose outputs become the graph's outputs, in this order (cut a backbone at a feature layer); default: the model's outputs. */
  outputLayers?: readonly string[];
  /** Stored in the model's metadata_props (for example diyml's labels and input spec as JSON). */
  metadata?: Record<string, string>;
  /** The model's doc_string: what the input and outputs mean (Markdown). */
  description?: string;
}

export interface OnnxTensorInfo {
  name: string;
  /** Shape without the batch axis, channels last (as in tfjs). */
  shape: number[];
}

export interface OnnxConversion {
  /** The ONNX model file (opset 13). */
  bytes: Uint8Array;
  /** Takes [batch, height, width, channels] float32, the values the tfjs model takes. */
  input: OnnxTensorInfo;
  /** Channels-last, like the tfjs outputs; one per output layer. */
  outputs: OnnxTensorInfo[];
}

/**
 * A value of the ONNX graph standing for a tfjs symbolic tensor. Rank-4 image tensors are kept channels-first
 * (NCHW, what ONNX convolutions take); all others in tfjs's layout.
 */
interface Value {
  name: string;
  /** The tfjs shape, batch first, channels last. */
  shape: (number | null)[];
  layout: 'nchw' | 'tfjs';
}

type Config = Record<string, unknown>;

type Padding = { pads: number[] } | { auto_pad: 'SAME_UPPER' };

/** The ONNX values of one (possibly nested) model's symbolic tensors, by tensor id. */
interface Scope {
  values: Map<number, Value>;
  prefix: string;
}

const BATCH = 'batch';
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

function isNestedModel(layer: tfl.layers.Layer): layer is tfl.LayersModel {
  return ['Model', 'Functional', 'Sequential'].includes(layer.getClassName());
}

function pair(value: unknown): [number, number] {
  return Array.isArray(value) ? [Number(value[0]), Number(value[1] ?? value[0])] : [Number(value), Number(value)];
}

/** Explicit [top, left, bottom, right] padding; 'same' puts the odd pixel at the end, as TensorFlow does. */
function paddingOf(
  padding: unknown,
  input: (number | null)[],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): number[] | 'SAME_UPPER' {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw new RangeError(`padding '${String(padding)}'`);
  const [height, width] = [input[1], input[2]];
  if (height == null || width == null) return 'SAME_UPPER';
  const total = (size: number, axis: 0 | 1) =>
    Math.max(
      (Math.ceil(size / strides[axis]) - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - size,
      0,
    );
  const [vertical, horizontal] = [total(height, 0), total(width, 1)];
  return [
    Math.floor(vertical / 2),
    Math.floor(horizontal / 2),
    vertical - Math.floor(vertical / 2),
    horizontal - Math.floor(horizontal / 2),
  ];
}

/** A 4-D kernel with its axes reordered: output axis i is input axis permutation[i]. */
function transposed(values: Float32Array, shape: readonly number[], permutation: readonly number[]): Float32Array {
  const inputStrides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const [d0, d1, d2, d3] = permutation.map((axis) => shape[axis]);
  const [s0, s1, s2, s3] = permutation.map((axis) => inputStrides[axis]);
  const result = new Float32Array(values.length);
  let index = 0;
  for (let a = 0; a < d0; a++)
    for (let b = 0; b < d1; b++)
      for (let c = 0; c < d2; c++)
        for (let d = 0; d < d3; d++) result[index++] = values[a * s0 + b * s1 + c * s2 + d * s3];
  return result;
}

class LayersToOnnx {
  private readonly builder = new OnnxGraphBuilder();

  constructor(private readonly model: tfl.LayersModel) {}

  convert(options: OnnxConversionOptions): OnnxConversion {
    if (this.model.inputs.length !== 1)
      throw new RangeError(`ONNX conversion needs a model with one input, this one has ${this.model.inputs.length}`);
    const input = this.model.inputs[0];
    const inputShape = input.shape.slice(1).map((size) => {
      if (size == null)
        throw new RangeError(`ONNX conversion needs a fixed input size, got [${input.shape.join(', ')}]`);
      return size;
    });
    const inputName = 'image';
    this.builder.unique(inputName);
    const bindings = new Map<number, Value>([[input.id, { name: inputName, shape: input.shape, layout: 'tfjs' }]]);
    const outputTensors = options.outputLayers?.length
      ? options.outputLayers.map((name) => this.model.getLayer(name).output as tfl.SymbolicTensor)
      : this.model.outputs;
    // Outputs are named after their layers: reserved first, so no inner value takes the name.
    const outputNames = (
      options.outputLayers?.length ? [...options.outputLayers] : outputTensors.map((tensor) => tensor.sourceLayer.name)
    ).map((name) => this.builder.unique(name));
    const scope: Scope = { values: bindings, prefix: '' };
    const outputs = outputTensors.map((tensor, index) => {
      const value = this.tfjsLayout(this.valueOf(tensor, scope));
      const name = outputNames[index];
      this.builder.node('Identity', [value.name], name, {}, name);
      return { name, shape: value.shape.slice(1).map((size) => size ?? -1) };
    });
    foldBatchNormalization(this.builder, new Set(outputs.map((output) => output.name)));
    const batched = (shape: number[]): OnnxDimension[] => [BATCH, ...shape];
    const graph = this.builder.build(
      this.model.name,
      [{ name: inputName, shape: batched(inputShape) }],
      outputs.map((output) => ({ name: output.name, shape: batched(output.shape) })),
    );
    const bytes = encodeModel(graph, options.metadata ?? {}, tf.version_core, options.description);
    return { bytes, input: { name: inputName, shape: inputShape }, outputs };
  }

  private valueOf(tensor: tfl.SymbolicTensor, scope: Scope): Value {
    const known = scope.values.get(tensor.id);
    if (known) return known;
    const layer = tensor.sourceLayer;
    let value: Value;
    if (isNestedModel(layer)) {
      const inner: Scope = {
        values: new Map(
          layer.inputs.map((innerInput, index) => [innerInput.id, this.valueOf(tensor.inputs[index], scope)]),
        ),
        prefix: `${scope.prefix}${layer.name}/`,
      };
      value = this.valueOf(layer.outputs[tensor.outputTensorIndex ?? 0], inner);
    } else {
      if (tensor.inputs.length === 0)
        throw new RangeError(`tensor '${tensor.name}' has no producer: is it an input of another model?`);
      const inputs = tensor.inputs.map((input) => this.valueOf(input, scope));
      value = this.layer(layer, inputs, tensor.shape, `${scope.prefix}${layer.name}`);
    }
    scope.values.set(tensor.id, value);
    return value;
  }

  private nchw(value: Value): Value {
    if (value.shape.length !== 4 || value.layout === 'nchw') return value;
    return {
      ...value,
      layout: 'nchw',
      name: this.builder.node('Transpose', [value.name], `${value.name}_nchw`, { perm: TO_NCHW }),
    };
  }

  private tfjsLayout(value: Value): Value {
    if (value.layout === 'tfjs') return value;
    return {
      ...value,
      layout: 'tfjs',
      name: this.builder.node('Transpose', [value.name], `${value.name}_nhwc`, { perm: TO_NHWC }),
    };
  }

  /** Rank-4 results go back to NCHW, everything else stays in tfjs layout. */
  private result(name: string, shape: (number | null)[], layout: Value['layout']): Value {
    return layout === 'tfjs' && shape.length === 4 ? this.nchw({ name, shape, layout }) : { name, shape, layout };
  }

  /** The ONNX axis of a tfjs axis, for a value in its current layout. */
  private axis(value: Value, tfjsAxis: number): number {
    const axis = tfjsAxis < 0 ? tfjsAxis + value.shape.length : tfjsAxis;
    return value.layout === 'nchw' ? TO_NHWC[axis] : axis;
  }

  private constant(name: string, value: number): string {
    return this.builder.floatConstant(name, Float32Array.of(value), []);
  }

  private activation(kind: string, value: Value, name: string, layerType: string, layerName: string): Value {
    const node = (opType: string, attributes = {}) => ({
      ...value,
      name: this.builder.node(opType, [value.name], name, attributes),
    });
    switch (kind) {
      case 'linear':
        return value;
      case 'relu':
        return node('Relu');
      case 'relu6':
        return {
          ...value,
          name: this.builder.node(
            'Clip',
            [value.name, this.constant(`${name}_min`, 0), this.constant(`${name}_max`, 6)],
            name,
          ),
        };
      case 'sigmoid':
        return node('Sigmoid');
      case 'tanh':
        return node('Tanh');
      case 'elu':
        return node('Elu');
      case 'selu':
        return node('Selu');
      case 'softplus':
        return node('Softplus');
      case 'softsign':
        return node('Softsign');
      case 'hardSigmoid':
        return node('HardSigmoid', { alpha: { float: 0.2 }, beta: { float: 0.5 } });
      case 'softmax':
        return node('Softmax', { axis: this.axis(value, -1) });
      case 'logSoftmax':
        return node('LogSoftmax', { axis: this.axis(value, -1) });
      case 'swish': {
        const gate = this.builder.node('Sigmoid', [value.name], `${name}_gate`);
        return { ...value, name: this.builder.node('Mul', [value.name, gate], name) };
      }
      default:
        throw new UnsupportedLayerError(layerType, layerName, `activation '${kind}'`);
    }
  }

  private layer(layer: tfl.layers.Layer, inputs: Value[], outputShape: (number | null)[], name: string): Value {
    const type = layer.getClassName();
    const config = layer.getConfig() as Config;
    const weights = () =>
      layer.getWeights().map((weight) => ({ values: weight.dataSync() as Float32Array, shape: weight.shape }));
    const [input] = inputs;
    const activate = (value: Value) =>
      this.activation(
        String(config.activation ?? 'linear'),
        value,
        `${name}_${String(config.activation)}`,
        type,
        layer.name,
      );
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast')
      throw new UnsupportedLayerError(type, layer.name, `data format ${String(config.dataFormat)}`);
    switch (type) {
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'SeparableConv2D':
        return activate(this.convolution(type, config, weights(), this.nchw(input), outputShape, name, layer.name));
      case 'Dense':
        return activate(this.dense(config, weights(), input, outputShape, name));
      case 'BatchNormalization':
        return this.batchNormalization(config, weights(), input, name, layer.name);
      case 'Activation':
        return this.activation(String(config.activation), input, name, type, layer.name);
      case 'ReLU':
        return config.maxValue == null
          ? this.activation('relu', input, name, type, layer.name)
          : {
              ...input,
              name: this.builder.node(
                'Clip',
                [input.name, this.constant(`${name}_min`, 0), this.constant(`${name}_max`, Number(config.maxValue))],
                name,
              ),
            };
      case 'LeakyReLU':
        return {
          ...input,
          name: this.builder.node('LeakyRelu', [input.name], name, { alpha: { float: Number(config.alpha ?? 0.3) } }),
        };
      case 'Softmax':
        return {
          ...input,
          name: this.builder.node('Softmax', [input.name], name, { axis: this.axis(input, Number(config.axis ?? -1)) }),
        };
      case 'Add':
      case 'Multiply':
      case 'Maximum':
      case 'Minimum':
      case 'Average':
        return this.merge(type, inputs, name);
      case 'Concatenate': {
        const aligned = inputs.map((value) => (input.layout === 'nchw' ? this.nchw(value) : this.tfjsLayout(value)));
        return {
          ...aligned[0],
          shape: outputShape,
          name: this.builder.node(
            'Concat',
            aligned.map((value) => value.name),
            name,
            { axis: this.axis(aligned[0], Number(config.axis ?? -1)) },
          ),
        };
      }
      case 'ZeroPadding2D': {
        const [[top, bottom], [left, right]] = (config.padding as number[][]).map(pair);
        const pads = this.builder.int64Constant(`${name}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
        return {
          shape: outputShape,
          layout: 'nchw',
          name: this.builder.node('Pad', [this.nchw(input).name, pads], name),
        };
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const kernel = pair(config.poolSize);
        const strides = pair(config.strides ?? config.poolSize);
        const pads = paddingOf(config.padding, input.shape, kernel, strides, [1, 1]);
        const padding: Padding = pads === 'SAME_UPPER' ? { auto_pad: pads } : { pads };
        const opType = type === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
        return {
          shape: outputShape,
          layout: 'nchw',
          name: this.builder.node(opType, [this.nchw(input).name], name, { kernel_shape: kernel, strides, ...padding }),
        };
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const pooled = this.builder.node(
          type === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool',
          [this.nchw(input).name],
          `${name}_pooled`,
        );
        return { shape: outputShape, layout: 'tfjs', name: this.builder.node('Flatten', [pooled], name, { axis: 1 }) };
      }
      case 'Flatten':
        return {
          shape: outputShape,
          layout: 'tfjs',
          name: this.builder.node('Flatten', [this.tfjsLayout(input).name], name, { axis: 1 }),
        };
      case 'Reshape': {
        const shape = this.builder.int64Constant(`${name}_shape`, [0, ...(config.targetShape as number[])]);
        return this.result(
          this.builder.node('Reshape', [this.tfjsLayout(input).name, shape], name),
          outputShape,
          'tfjs',
        );
      }
      case 'Rescaling': {
        const scaled = this.builder.node(
          'Mul',
          [input.name, this.constant(`${name}_scale`, Number(config.scale))],
          `${name}_scaled`,
        );
        return {
          ...input,
          name: this.builder.node('Add', [scaled, this.constant(`${name}_offset`, Number(config.offset ?? 0))], name),
        };
      }
      case 'UpSampling2D': {
        const [rows, columns] = pair(config.size);
        const interpolation: Record<string, string> =
          config.interpolation === 'bilinear' ? { mode: 'linear' } : { mode: 'nearest', nearest_mode: 'floor' };
        const scales = this.builder.floatConstant(`${name}_scales`, Float32Array.of(1, 1, rows, columns), [4]);
        const resize = this.builder.node('Resize', [this.nchw(input).name, '', scales], name, {
          coordinate_transformation_mode: 'asymmetric',
          ...interpolation,
        });
        return { shape: outputShape, layout: 'nchw', name: resize };
      }
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout':
        // Inference: these layers pass their input through unchanged.
        return input;
      default:
        throw new UnsupportedLayerError(type, layer.name);
    }
  }

  private convolution(
    type: string,
    config: Config,
    weights: { values: Float32Array; shape: number[] }[],
    input: Value,
    outputShape: (number | null)[],
    name: string,
    layerName: string,
  ): Value {
    const kernel = pair(config.kernelSize);
    const strides = pair(config.strides ?? 1);
    const dilations = pair(config.dilationRate ?? 1);
    const pads = paddingOf(config.padding, input.shape, kernel, strides, dilations);
    if (config.padding === 'causal') throw new UnsupportedLayerError(type, layerName, "padding 'causal'");
    const padding: Padding = pads === 'SAME_UPPER' ? { auto_pad: pads } : { pads };
    const useBias = config.useBias !== false;
    const bias = (index: number) =>
      useBias ? [this.builder.floatConstant(`${name}_bias`, weights[index].values, weights[index].shape)] : [];
    const conv = (
      inputName: string,
      kernelWeights: string,
      group: number,
      biasNames: string[],
      nodeName: string,
      convKernel: [number, number],
      convStrides: [number, number],
      convPads: Padding,
    ) =>
      this.builder.node('Conv', [inputName, kernelWeights, ...biasNames], nodeName, {
        kernel_shape: convKernel,
        strides: convStrides,
        dilations,
        group,
        ...convPads,
      });
    // tfjs kernels are [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]); ONNX wants [out, in/group, kh, kw].
    const depthwiseWeights = (weight: { values: Float32Array; shape: number[] }) => {
      const [kh, kw, channels, multiplier] = weight.shape;
      return {
        name: this.builder.floatConstant(
          `${name}_depthwise_kernel`,
          transposed(weight.values, weight.shape, [2, 3, 0, 1]),
          [channels * multiplier, 1, kh, kw],
        ),
        channels,
      };
    };
    if (type === 'Conv2D') {
      const [kh, kw, channels, filters] = weights[0].shape;
      const kernelName = this.builder.floatConstant(
        `${name}_kernel`,
        transposed(weights[0].values, weights[0].shape, [3, 2, 0, 1]),
        [filters, channels, kh, kw],
      );
      return {
        shape: outputShape,
        layout: 'nchw',
        name: conv(input.name, kernelName, 1, bias(1), name, kernel, strides, padding),
      };
    }
    const depthwise = depthwiseWeights(weights[0]);
    if (type === 'DepthwiseConv2D') {
      return {
        shape: outputShape,
        layout: 'nchw',
        name: conv(input.name, depthwise.name, depthwise.channels, bias(1), name, kernel, strides, padding),
      };
    }
    const spatial = conv(
      input.name,
      depthwise.name,
      depthwise.channels,
      [],
      `${name}_depthwise`,
      kernel,
      strides,
      padding,
    );
    const [, , inner, filters] = weights[1].shape;
    const pointwise = this.builder.floatConstant(
      `${name}_pointwise_kernel`,
      transposed(weights[1].values, weights[1].shape, [3, 2, 0, 1]),
      [filters, inner, 1, 1],
    );
    return {
      shape: outputShape,
      layout: 'nchw',
      name: conv(spatial, pointwise, 1, bias(2), name, [1, 1], [1, 1], { pads: [0, 0, 0, 0] }),
    };
  }

  private dense(
    config: Config,
    weights: { values: Float32Array; shape: number[] }[],
    input: Value,
    outputShape: (number | null)[],
    name: string,
  ): Value {
    const kernel = this.builder.floatConstant(`${name}_kernel`, weights[0].values, weights[0].shape);
    const bias =
      config.useBias !== false
        ? this.builder.floatConstant(`${name}_bias`, weights[1].values, weights[1].shape)
        : undefined;
    if (input.shape.length === 2) {
      return {
        shape: outputShape,
        layout: 'tfjs',
        name: this.builder.node('Gemm', [input.name, kernel, ...(bias ? [bias] : [])], name),
      };
    }
    // A dense layer on an image (or a sequence) applies to the last axis at every position.
    const product = this.builder.node('MatMul', [this.tfjsLayout(input).name, kernel], bias ? `${name}_product` : name);
    return this.result(bias ? this.builder.node('Add', [product, bias], name) : product, outputShape, 'tfjs');
  }

  private batchNormalization(
    config: Config,
    weights: { values: Float32Array; shape: number[] }[],
    input: Value,
    name: string,
    layerName: string,
  ): Value {
    const axis = Number(config.axis ?? -1);
    if (axis !== -1 && axis !== input.shape.length - 1)
      throw new UnsupportedLayerError(
        'BatchNormalization',
        layerName,
        `axis ${axis} (only the channel axis is supported)`,
      );
    const queue = [...weights];
    const channels = weights[weights.length - 1].values.length;
    const gamma = config.scale !== false ? queue.shift()!.values : new Float32Array(channels).fill(1);
    const beta = config.center !== false ? queue.shift()!.values : new Float32Array(channels);
    const [mean, variance] = queue.map((weight) => weight.values);
    const epsilon = Number(config.epsilon ?? 1e-3);
    if (input.layout === 'nchw' || input.shape.length === 2) {
      const parameters = [gamma, beta, mean, variance].map((values, index) =>
        this.builder.floatConstant(`${name}_${['scale', 'bias', 'mean', 'variance'][index]}`, values, [channels]),
      );
      return {
        ...input,
        name: this.builder.node('BatchNormalization', [input.name, ...parameters], name, {
          epsilon: { float: epsilon },
        }),
      };
    }
    // Other ranks stay in tfjs layout, channels last: an affine map broadcast over the last axis.
    const scale = gamma.map((g, channel) => g / Math.sqrt(variance[channel] + epsilon));
    const shift = beta.map((b, channel) => b - mean[channel] * scale[channel]);
    const scaled = this.builder.node(
      'Mul',
      [input.name, this.builder.floatConstant(`${name}_scale`, scale, [channels])],
      `${name}_scaled`,
    );
    return {
      ...input,
      name: this.builder.node('Add', [scaled, this.builder.floatConstant(`${name}_shift`, shift, [channels])], name),
    };
  }

  private merge(type: string, inputs: Value[], name: string): Value {
    const aligned = inputs.map((value) => (inputs[0].layout === 'nchw' ? this.nchw(value) : this.tfjsLayout(value)));
    const opType = { Add: 'Sum', Multiply: 'Mul', Maximum: 'Max', Minimum: 'Min', Average: 'Sum' }[type]!;
    const names = aligned.map((value) => value.name);
    if (opType === 'Mul') {
      const product = names
        .slice(1)
        .reduce(
          (left, right, index) =>
            this.builder.node('Mul', [left, right], index === names.length - 2 ? name : `${name}_${index}`),
          names[0],
        );
      return { ...aligned[0], name: product };
    }
    if (type === 'Average') {
      const sum = this.builder.node('Sum', names, `${name}_sum`);
      return {
        ...aligned[0],
        name: this.builder.node('Mul', [sum, this.constant(`${name}_scale`, 1 / names.length)], name),
      };
    }
    return { ...aligned[0], name: this.builder.node(opType, names, name) };
  }
}

/**
 * Converts a tfjs LayersModel to an ONNX model (opset 13) computing the same values: convolutions with batch
 * normalisation folded in, nested models inlined, dropout removed. Input: [batch, height, width, channels] float32;
 * outputs channels-last like tfjs, one per `outputLayers` entry. Throws `UnsupportedLayerError` naming the layer
 * type it cannot translate.
 */
export function convertToOnnx(model: tfl.LayersModel, options: OnnxConversionOptions = {}): OnnxConversion {
  return new LayersToOnnx(model).convert(options);
}
