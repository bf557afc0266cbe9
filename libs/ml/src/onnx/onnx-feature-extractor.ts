import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { InferenceSession } from 'onnxruntime-node';
import { convertToOnnx, type OnnxTensorInfo } from './layers-to-onnx.converter.js';

export type ForwardRuntime = 'onnxruntime' | 'tfjs';

export interface FeatureExtractorOptions {
  /** 'auto' (default): onnxruntime-node, else tfjs when onnxruntime cannot load or the graph cannot be converted. */
  runtime?: 'auto' | ForwardRuntime;
  /** onnxruntime's intra-op threads; default: every core (os.availableParallelism()). */
  threads?: number;
}

/**
 * A frozen forward pass from images to the outputs of chosen layers. One instance serves one model; run calls
 * are queued by onnxruntime, so callers may overlap them.
 */
export interface FeatureExtractor {
  /** What runs the pass: onnxruntime-node, or tfjs when it could not be used (see `fallbackReason`). */
  readonly runtime: ForwardRuntime;
  readonly fallbackReason?: string;
  /** Per image, channels last: [height, width, channels]. */
  readonly inputShape: readonly number[];
  /** One per output layer, in the order asked for; shapes per image, channels last. */
  readonly outputs: readonly OnnxTensorInfo[];
  /**
   * `batch` holds `count` images, [count, height, width, channels] float32 in the model's input range.
   * Resolves to one array per output layer, [count, ...shape] channels last — the values tfjs would give.
   */
  run(batch: Float32Array, count: number): Promise<Float32Array[]>;
  /** Releases the onnxruntime session (the tfjs model stays the caller's). */
  dispose(): Promise<void>;
}

type OnnxRuntime = typeof import('onnxruntime-node');

let runtimeModule: Promise<OnnxRuntime> | undefined;

/** onnxruntime-node loads a native binary; loaded once, on first use, so a machine without it still has tfjs. */
function loadOnnxRuntime(): Promise<OnnxRuntime> {
  runtimeModule ??= import('onnxruntime-node');
  return runtimeModule;
}

function checkBatch(batch: Float32Array, count: number, inputShape: readonly number[]): void {
  const expected = count * inputShape.reduce((product, size) => product * size, 1);
  if (!Number.isInteger(count) || count < 1 || batch.length !== expected) {
    throw new RangeError(`expected ${count} image(s) of [${inputShape.join(', ')}] = ${expected} values, got ${batch.length}`);
  }
}

class OnnxFeatureExtractor implements FeatureExtractor {
  readonly runtime = 'onnxruntime';

  constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: InferenceSession,
    private readonly inputName: string,
    readonly inputShape: readonly number[],
    readonly outputs: readonly OnnxTensorInfo[],
  ) {}

  async run(batch: Float32Array, count: number): Promise<Float32Array[]> {
    checkBatch(batch, count, this.inputShape);
    const input = new this.ort.Tensor('float32', batch, [count, ...this.inputShape]);
    const results = await this.session.run({ [this.inputName]: input });
    return this.outputs.map((output) => results[output.name].data as Float32Array);
  }

  dispose(): Promise<void> {
    return this.session.release();
  }
}

class TfjsFeatureExtractor implements FeatureExtractor {
  readonly runtime = 'tfjs';

  constructor(
    private readonly model: tfl.LayersModel,
    readonly inputShape: readonly number[],
    readonly outputs: readonly OnnxTensorInfo[],
    readonly fallbackReason: string | undefined,
  ) {}

  async run(batch: Float32Array, count: number): Promise<Float32Array[]> {
    checkBatch(batch, count, this.inputShape);
    const results = tf.tidy(() => {
      const predicted = this.model.predict(tf.tensor(batch, [count, ...this.inputShape]));
      return (Array.isArray(predicted) ? predicted : [predicted]).map((tensor) => tf.keep(tensor));
    });
    const values = await Promise.all(results.map((tensor) => tensor.data() as Promise<Float32Array>));
    tf.dispose(results);
    return values;
  }

  async dispose(): Promise<void> {
    // The model shares its layers (and weights) with the caller's model, which the caller disposes.
  }
}

function tfjsExtractor(model: tfl.LayersModel, outputLayers: readonly string[], reason: string | undefined): FeatureExtractor {
  const outputs = outputLayers.length ? outputLayers.map((name) => model.getLayer(name).output as tfl.SymbolicTensor) : model.outputs;
  const cut = tfl.model({ inputs: model.inputs, outputs });
  const info = outputs.map((output, index) => ({ name: outputLayers[index] ?? output.sourceLayer.name, shape: output.shape.slice(1) as number[] }));
  return new TfjsFeatureExtractor(cut, model.inputs[0].shape.slice(1) as number[], info, reason);
}

/**
 * A fast frozen forward pass of `model` up to `outputLayers` (default: its outputs): the model converted to ONNX
 * and run by onnxruntime-node on every core, or — when onnxruntime cannot load or a layer cannot be converted —
 * the same layers run by tfjs on the current backend. Both give the same values within float rounding.
 */
export async function createOnnxFeatureExtractor(
  model: tfl.LayersModel,
  outputLayers: readonly string[] = [],
  options: FeatureExtractorOptions = {},
): Promise<FeatureExtractor> {
  const runtime = options.runtime ?? 'auto';
  if (runtime === 'tfjs') return tfjsExtractor(model, outputLayers, undefined);
  try {
    const ort = await loadOnnxRuntime();
    const conversion = convertToOnnx(model, { outputLayers });
    const session = await ort.InferenceSession.create(conversion.bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
    });
    return new OnnxFeatureExtractor(ort, session, conversion.input.name, conversion.input.shape, conversion.outputs);
  } catch (error) {
    if (runtime === 'onnxruntime') throw error;
    return tfjsExtractor(model, outputLayers, error instanceof Error ? error.message : String(error));
  }
}
