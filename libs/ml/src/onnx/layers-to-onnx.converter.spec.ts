import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { getArchitecture } from '../architectures/architecture-registry.js';
import { selectBackend } from '../backend/backend-selection.js';
import { serializeModel } from '../models/model-serialization.js';
import { SeededRandom } from '../random/seeded-random.js';
import { loadNsfwjsMobileNetV2 } from '../testing/nsfwjs-mobilenet.js';
import { convertToOnnx, UnsupportedLayerError } from './layers-to-onnx.converter.js';
import { createOnnxFeatureExtractor } from './onnx-feature-extractor.js';
import { ModelProto } from './onnx-proto.js';

function randomBatch(
  count: number,
  shape: readonly number[],
  seed: number,
  range: [number, number] = [0, 1],
): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from(
    { length: count * shape.reduce((product, size) => product * size, 1) },
    () => range[0] + random.next() * (range[1] - range[0]),
  );
}

/** tfjs's own outputs of `layers` for a batch, the reference the ONNX graph must reproduce. */
function tfjsOutputs(
  model: tfl.LayersModel,
  batch: Float32Array,
  count: number,
  layers: readonly string[] = [],
): Float32Array[] {
  const outputs = layers.length
    ? layers.map((name) => model.getLayer(name).output as tfl.SymbolicTensor)
    : model.outputs;
  const cut = tfl.model({ inputs: model.inputs, outputs });
  return tf.tidy(() => {
    const predicted = cut.predict(tf.tensor(batch, [count, ...(model.inputs[0].shape.slice(1) as number[])]));
    return (Array.isArray(predicted) ? predicted : [predicted]).map((tensor) => tensor.dataSync() as Float32Array);
  });
}

/** Runs the converted bytes in a fresh onnxruntime session, as anyone holding the file would. */
async function onnxOutputs(
  bytes: Uint8Array,
  batch: Float32Array,
  shape: readonly number[],
  count: number,
): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const results = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', batch, [count, ...shape]) });
    return session.outputNames.map((name) => results[name].data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Largest difference relative to the reference's magnitude (at least 1). */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let difference = 0;
  let magnitude = 1;
  expected.forEach((value, index) => {
    difference = Math.max(difference, Math.abs(actual[index] - value));
    magnitude = Math.max(magnitude, Math.abs(value));
  });
  return difference / magnitude;
}

async function expectSameOutputs(
  model: tfl.LayersModel,
  layers: readonly string[] = [],
  count = 3,
  range: [number, number] = [0, 1],
): Promise<void> {
  const conversion = convertToOnnx(model, { outputLayers: layers });
  const batch = randomBatch(count, conversion.input.shape, 5, range);
  const expected = tfjsOutputs(model, batch, count, layers);
  const actual = await onnxOutputs(conversion.bytes, batch, conversion.input.shape, count);
  expect(actual).toHaveLength(expected.length);
  actual.forEach((values, index) => expect(relativeError(values, expected[index])).toBeLessThan(1e-4));
}

/** Random weights everywhere, including batch-norm statistics far from the identity, so folding is really tested. */
function randomiseWeights(model: tfl.LayersModel, seed: number): void {
  const random = new SeededRandom(seed);
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const isNormalisation = layer.getClassName() === 'BatchNormalization';
    layer.setWeights(
      weights.map((weight, index) => {
        const values = Float32Array.from({ length: weight.size }, () => random.next() * 2 - 1);
        // Variance (the last batch-norm weight) must be positive; scale gamma near 1.
        if (isNormalisation && index === weights.length - 1)
          values.forEach((value, i) => (values[i] = 0.2 + Math.abs(value)));
        return tf.tensor(values, weight.shape);
      }),
    );
  }
}

/** A few MobileNetV2 blocks at 32 px: padding, strided conv, depthwise, batch norm, ReLU6, expansion, residual add. */
function miniMobileNetV2(): tfl.LayersModel {
  const input = tfl.input({ shape: [32, 32, 3], name: 'input_1' });
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
    layer.apply(x) as tfl.SymbolicTensor;
  let x = apply(
    tfl.layers.zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1],
      ],
      name: 'Conv1_pad',
    }),
    input,
  );
  x = apply(
    tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'Conv1' }),
    x,
  );
  x = apply(tfl.layers.batchNormalization({ epsilon: 1e-3, name: 'bn_Conv1' }), x);
  x = apply(tfl.layers.reLU({ maxValue: 6, name: 'Conv1_relu' }), x);
  const block = (x: tfl.SymbolicTensor, id: number, filters: number, stride: number) => {
    const inputChannels = x.shape[3] as number;
    let y = apply(
      tfl.layers.conv2d({ filters: inputChannels * 3, kernelSize: 1, useBias: false, name: `block_${id}_expand` }),
      x,
    );
    y = apply(tfl.layers.batchNormalization({ epsilon: 1e-3, name: `block_${id}_expand_BN` }), y);
    y = apply(tfl.layers.reLU({ maxValue: 6, name: `block_${id}_expand_relu` }), y);
    if (stride === 2)
      y = apply(
        tfl.layers.zeroPadding2d({
          padding: [
            [0, 1],
            [0, 1],
          ],
          name: `block_${id}_pad`,
        }),
        y,
      );
    y = apply(
      tfl.layers.depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: stride === 2 ? 'valid' : 'same',
        useBias: false,
        name: `block_${id}_depthwise`,
      }),
      y,
    );
    y = apply(tfl.layers.batchNormalization({ epsilon: 1e-3, name: `block_${id}_depthwise_BN` }), y);
    y = apply(tfl.layers.reLU({ maxValue: 6, name: `block_${id}_depthwise_relu` }), y);
    y = apply(tfl.layers.conv2d({ filters, kernelSize: 1, useBias: false, name: `block_${id}_project` }), y);
    y = apply(tfl.layers.batchNormalization({ epsilon: 1e-3, name: `block_${id}_project_BN` }), y);
    return inputChannels === filters && stride === 1 ? apply(tfl.layers.add({ name: `block_${id}_add` }), [x, y]) : y;
  };
  x = block(x, 1, 8, 1);
  x = block(x, 2, 12, 2);
  x = block(x, 3, 12, 1);
  x = apply(tfl.layers.conv2d({ filters: 32, kernelSize: 1, useBias: false, name: 'Conv_1' }), x);
  x = apply(tfl.layers.batchNormalization({ epsilon: 1e-3, name: 'Conv_1_bn' }), x);
  x = apply(tfl.layers.reLU({ maxValue: 6, name: 'out_relu' }), x);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }), x);
  x = apply(tfl.layers.dropout({ rate: 0.5, name: 'dropout' }), x);
  x = apply(tfl.layers.dense({ units: 5, activation: 'softmax', name: 'predictions' }), x);
  const model = tfl.model({ inputs: input, outputs: x, name: 'mini_mobilenet_v2' });
  randomiseWeights(model, 3);
  return model;
}

describe('tfjs LayersModel → ONNX', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  it.each([
    ['small-cnn', { width: 28, height: 28 }, 1],
    ['small-cnn', { width: 40, height: 40 }, 3],
    ['tiny-detector', { width: 32, height: 24 }, 3],
  ] as const)('gives the outputs of %s (%o, %d channels)', async (architecture, imageSize, channels) => {
    const { model } = await getArchitecture(architecture).build({ imageSize, channels, labelCount: 4, seed: 7 });
    await expectSameOutputs(model);
    model.dispose();
  });

  it('gives the outputs of a transfer model: a new head on an imported MobileNetV2-like base', async () => {
    const base = miniMobileNetV2();
    const serialized = await serializeModel(base, {
      format: 'diyml',
      version: 1,
      architecture: 'imported',
      task: 'classification',
      labels: [],
      imageSize: { width: 32, height: 32 },
      channels: 3,
      fit: 'resize',
      inputRange: [-1, 1],
    });
    base.dispose();
    const json = JSON.parse(serialized.modelJson);
    delete json.userDefinedMetadata;
    const { model } = await getArchitecture('transfer').build({
      baseModel: { ...serialized, modelJson: JSON.stringify(json) },
      imageSize: { width: 32, height: 32 },
      channels: 3,
      labelCount: 3,
      seed: 2,
    });
    await expectSameOutputs(model, [], 2, [-1, 1]);
    model.dispose();
  });

  it('cuts a MobileNetV2-like model at intermediate layers, with batch normalisation folded into the convolutions', async () => {
    const model = miniMobileNetV2();
    const layers = ['block_2_expand_relu', 'block_3_project_BN', 'out_relu', 'predictions'];
    await expectSameOutputs(model, layers, 4);
    const conversion = convertToOnnx(model, { outputLayers: layers });
    expect(conversion.outputs).toEqual([
      { name: 'block_2_expand_relu', shape: [16, 16, 24] },
      { name: 'block_3_project_BN', shape: [8, 8, 12] },
      { name: 'out_relu', shape: [8, 8, 32] },
      { name: 'predictions', shape: [5] },
    ]);
    // All eleven normalisations are folded into the convolutions before them (an output may be a folded one).
    const decoded = ModelProto.toObject(ModelProto.decode(conversion.bytes)) as {
      graph: { node: { opType: string }[] };
    };
    const operations = decoded.graph.node.map((node) => node.opType);
    expect(operations.filter((operation) => operation === 'BatchNormalization')).toHaveLength(0);
    expect(operations.filter((operation) => operation === 'Conv')).toHaveLength(11);
    model.dispose();
  });

  it('converts nested models, pooling with odd sizes, separable convolutions, merges, upsampling and reshapes', async () => {
    const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
      layer.apply(x) as tfl.SymbolicTensor;
    // A Teachable Machine export nests a feature Sequential and a head Sequential inside a Sequential.
    const features = tfl.sequential({
      name: 'features',
      layers: [
        tfl.layers.conv2d({
          inputShape: [15, 13, 3],
          filters: 6,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu6',
        }),
        tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        tfl.layers.separableConv2d({
          filters: 8,
          kernelSize: 3,
          padding: 'same',
          depthMultiplier: 2,
          activation: 'tanh',
        }),
      ],
    });
    const input = tfl.input({ shape: [15, 13, 3] });
    const trunk = apply(features, input);
    const left = apply(tfl.layers.averagePooling2d({ poolSize: 2, padding: 'same' }), trunk);
    const right = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 1, strides: 2, activation: 'sigmoid' }), trunk);
    const merged = apply(tfl.layers.concatenate({ axis: -1 }), [
      apply(tfl.layers.multiply({}), [left, right]),
      apply(tfl.layers.average({}), [left, right]),
    ]);
    const upsampled = apply(tfl.layers.add({}), [
      apply(tfl.layers.upSampling2d({ size: [2, 2] }), merged),
      apply(tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }), merged),
    ]);
    const activated = apply(tfl.layers.leakyReLU({ alpha: 0.1 }), apply(tfl.layers.batchNormalization({}), upsampled));
    const perPixel = apply(tfl.layers.dense({ units: 4, activation: 'elu' }), activated);
    const reshaped = apply(tfl.layers.reshape({ targetShape: [16, 4] }), perPixel);
    const pooled = apply(
      tfl.layers.globalMaxPooling2d({}),
      apply(tfl.layers.reshape({ targetShape: [4, 4, 4] }), apply(tfl.layers.flatten({}), reshaped)),
    );
    const head = tfl.sequential({
      name: 'head',
      layers: [tfl.layers.dense({ inputShape: [4], units: 3, activation: 'softmax' })],
    });
    const model = tfl.model({ inputs: input, outputs: apply(head, pooled) });
    randomiseWeights(model, 9);
    await expectSameOutputs(model, [], 2);
    model.dispose();
  });

  it('refuses a layer it cannot translate, naming its type', async () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const permuted = tfl.layers.permute({ dims: [2, 1, 3], name: 'swap_axes' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: permuted });
    expect(() => convertToOnnx(model)).toThrow(UnsupportedLayerError);
    expect(() => convertToOnnx(model)).toThrow("cannot convert layer 'swap_axes' of type Permute to ONNX");
    // The feature extractor falls back to tfjs, which runs every layer it can build.
    const extractor = await createOnnxFeatureExtractor(model);
    expect(extractor.runtime).toBe('tfjs');
    expect(extractor.fallbackReason).toContain('Permute');
    const batch = randomBatch(1, [8, 8, 3], 1);
    expect(await extractor.run(batch, 1)).toEqual(tfjsOutputs(model, batch, 1));
    model.dispose();
  });
});

describe('ONNX feature extractor', () => {
  let model: tfl.LayersModel;

  beforeAll(async () => {
    await selectBackend();
    model = await loadNsfwjsMobileNetV2();
  }, 120_000);

  afterAll(() => {
    model.dispose();
  });

  it("runs nsfwjs's MobileNetV2 to its intermediate and final features on onnxruntime, equal to tfjs's", async () => {
    const layers = ['block_13_expand_relu', 'out_relu'];
    const extractor = await createOnnxFeatureExtractor(model, layers);
    const reference = await createOnnxFeatureExtractor(model, layers, { runtime: 'tfjs' });
    expect(extractor.runtime).toBe('onnxruntime');
    expect(extractor.inputShape).toEqual([224, 224, 3]);
    expect(extractor.outputs).toEqual([
      { name: 'block_13_expand_relu', shape: [14, 14, 576] },
      { name: 'out_relu', shape: [7, 7, 1280] },
    ]);
    const batch = randomBatch(2, [224, 224, 3], 11);
    const [actual, expected] = await Promise.all([extractor.run(batch, 2), reference.run(batch, 2)]);
    actual.forEach((values, index) => expect(relativeError(values, expected[index])).toBeLessThan(1e-4));
    await expect(extractor.run(batch, 3)).rejects.toThrow('expected 3 image(s) of [224, 224, 3]');
    await extractor.dispose();
    await reference.dispose();
  }, 120_000);

  it('gives the same values bit for bit on one thread as on one per core, one image or several per run', async () => {
    const layers = ['block_13_expand_relu'];
    const perCore = await createOnnxFeatureExtractor(model, layers, { runtime: 'onnxruntime', threads: 2 });
    const oneThread = await createOnnxFeatureExtractor(model, layers, {
      runtime: 'onnxruntime',
      threads: 1,
      imagesPerRun: 2,
    });
    const batch = randomBatch(2, [224, 224, 3], 5);
    const [[expected], [actual]] = await Promise.all([perCore.run(batch, 2), oneThread.run(batch, 2)]);
    expect(actual).toEqual(expected);
    await perCore.dispose();
    await oneThread.dispose();
  }, 120_000);
});
