import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { InferenceSession } from 'onnxruntime-node';
import { convertToOnnx, type OnnxTensorInfo } from './layers-to-onnx.converter.js';

export type ForwardRuntime = 'onnxruntime' | 'tfjs';

export interface FeatureExtractorOptions {
  /** 'auto' (default): onnxruntime-node, else tfjs when onnxruntime cannot load or the graph cannot be converted. */
  runtime?: 'auto' | ForwardRuntime;
  /**
   * Threads onnxruntime splits one run's operations over; default: one per core (os.availableParallelism()). They
   * sleep when idle instead of spinning, so they leave the cores to other work between runs. A run blocks the
   * calling thread (onnxruntime-node runs sessions synchronously), so runs never overlap: these threads are what
   * puts more than one core to work. The values do not depend on the number of threads.
   */
  threads?: number;
  /** Images per onnxruntime run; default 1 (larger batches overflow the caches: slower per image on 2 cores). */
  imagesPerRun?: number;
}

/**
 * A frozen forward pass from images to the outputs of chosen layers. One instance serves one model; callers may
 * overlap run calls (they take turns).
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
   * The batch is split into runs of `imagesPerRun` images, one after another.
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
    throw new RangeError(
      `expected ${count} image(s) of [${inputShape.join(', ')}] = ${expected} values, got ${batch.length}`,
    );
  }
}

class OnnxFeatureExtractor implements FeatureExtractor {
  readonly runtime = 'onnxruntime';

  private readonly imageSize: number;
  private readonly outputSizes: number[];

  constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: InferenceSession,
    private readonly inputName: string,
    readonly inputShape: readonly number[],
    readonly outputs: readonly OnnxTensorInfo[],
    private readonly imagesPerRun: number,
  ) {
    this.imageSize = inputShape.reduce((product, size) => product * size, 1);
    this.outputSizes = outputs.map((output) => output.shape.reduce((product, size) => product * size, 1));
  }

  async run(batch: Float32Array, count: number): Promise<Float32Array[]> {
    checkBatch(batch, count, this.inputShape);
    const results = this.outputSizes.map((size) => new Float32Array(count * size));
    for (let start = 0; start < count; start += this.imagesPerRun) {
      const size = Math.min(this.imagesPerRun, count - start);
      const input = new this.ort.Tensor(
        'float32',
        batch.subarray(start * this.imageSize, (start + size) * this.imageSize),
        [size, ...this.inputShape],
      );
      const outputs = await this.session.run({ [this.inputName]: input });
      this.outputs.forEach((output, index) =>
        results[index].set(outputs[output.name].data as Float32Array, start * this.outputSizes[index]),
      );
    }
    return results;
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

function tfjsExtractor(
  model: tfl.LayersModel,
  outputLayers: readonly string[],
  reason: string | undefined,
): FeatureExtractor {
  const outputs = outputLayers.length
    ? outputLayers.map((name) => model.getLayer(name).output as tfl.SymbolicTensor)
    : model.outputs;
  const cut = tfl.model({ inputs: model.inputs, outputs });
  const info = outputs.map((output, index) => ({
    name: outputLayers[index] ?? output.sourceLayer.name,
    shape: output.shape.slice(1) as number[],
  }));
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
      intraOpNumThreads: Math.max(1, options.threads ?? availableParallelism()),
      interOpNumThreads: 1,
      // Spinning threads wait for work at full speed: on a small shared machine they take the cores from the
      // threads that have work. Under load on 2 cores, 2 spinning threads ran MobileNetV2 slower than 1 thread,
      // 2 sleeping ones 2.6× faster (BENCHMARKS.md, backbone embedding).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    const imagesPerRun = Math.max(1, options.imagesPerRun ?? 1);
    return new OnnxFeatureExtractor(
      ort,
      session,
      conversion.input.name,
      conversion.input.shape,
      conversion.outputs,
      imagesPerRun,
    );
  } catch (error) {
    if (runtime === 'onnxruntime') throw error;
    return tfjsExtractor(model, outputLayers, error instanceof Error ? error.message : String(error));
  }
}
