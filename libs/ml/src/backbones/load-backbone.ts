import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { deserializeModel } from '../models/model-serialization.js';
import { createOnnxFeatureExtractor } from '../onnx/onnx-feature-extractor.js';
import {
  BackboneError,
  type Backbone,
  type BackboneDescriptor,
  type FeatureRunner,
  type FeatureRunnerFactory,
} from './backbone.js';
import { getBackbone } from './backbone-registry.js';
import { readBackboneModel, type WeightSourceOptions } from './weight-sources.js';

export interface LoadBackboneOptions extends WeightSourceOptions {
  /**
   * What runs repeated frozen forward passes (`createRunner`): by default the model converted to ONNX on
   * onnxruntime-node (tfjs when it cannot load or convert); `'tfjs'` for tfjs on the current backend.
   */
  runnerFactory?: FeatureRunnerFactory | 'tfjs';
}

/** onnxruntime-node, one image per core at a time: several times faster than tfjs wasm on a small CPU. */
const onnxRunner: FeatureRunnerFactory = (model, outputLayers) => createOnnxFeatureExtractor(model, outputLayers);

/** Loads a backbone by registered id (or from a descriptor, e.g. an imported model), frozen, ready to compute features. */
export async function loadBackbone(
  idOrDescriptor: string | BackboneDescriptor,
  options: LoadBackboneOptions = {},
): Promise<Backbone> {
  const descriptor = typeof idOrDescriptor === 'string' ? getBackbone(idOrDescriptor) : idOrDescriptor;
  const serialized = await readBackboneModel(descriptor, options);
  let model: tfl.LayersModel;
  try {
    ({ model } = await deserializeModel(serialized));
  } catch (error) {
    throw new BackboneError(
      'BACKBONE_INVALID',
      `The weights of backbone '${descriptor.id}' do not load as a tfjs layers model: ${(error as Error).message}`,
      descriptor.id,
      { cause: error },
    );
  }
  try {
    checkShape(descriptor, model);
  } catch (error) {
    model.dispose();
    throw error;
  }
  for (const layer of model.layers) layer.trainable = false;
  const runnerFactory = options.runnerFactory === 'tfjs' ? undefined : (options.runnerFactory ?? onnxRunner);
  return new LoadedBackbone(descriptor, model, runnerFactory);
}

function checkShape(descriptor: BackboneDescriptor, model: tfl.LayersModel): void {
  const [, height, width, channels] = model.inputs[0].shape;
  const problems: string[] = [];
  if (height !== descriptor.inputSize || width !== descriptor.inputSize || channels !== 3) {
    problems.push(
      `input is [${height}, ${width}, ${channels}], expected [${descriptor.inputSize}, ${descriptor.inputSize}, 3]`,
    );
  }
  for (const layer of descriptor.featureLayers) {
    const found = model.layers.find((candidate) => candidate.name === layer.name);
    if (!found) {
      problems.push(`it has no layer '${layer.name}'`);
      continue;
    }
    const shape = (found.output as tfl.SymbolicTensor).shape;
    const expectedSide = Math.ceil(descriptor.inputSize / layer.stride);
    if (shape.length !== 4 || shape[1] !== expectedSide || shape[3] !== layer.channels) {
      problems.push(
        `layer '${layer.name}' outputs [${shape.slice(1).join(', ')}], expected [${expectedSide}, ${expectedSide}, ${layer.channels}]`,
      );
    }
  }
  if (problems.length > 0)
    throw new BackboneError(
      'BACKBONE_INVALID',
      `Backbone '${descriptor.id}' does not match its description: ${problems.join('; ')}.`,
      descriptor.id,
    );
}

class LoadedBackbone implements Backbone {
  private readonly extractors = new Map<string, tfl.LayersModel>();
  /** Runners of the frozen backbone by layer list, shared by every createRunner call until `dispose`. */
  private readonly runners = new Map<string, Promise<FeatureRunner>>();

  /** The backbone's weights, owned by it whichever models are built on its layers. */
  private readonly weights: tf.Variable[];

  constructor(
    readonly descriptor: BackboneDescriptor,
    readonly model: tfl.LayersModel,
    private readonly runnerFactory: FeatureRunnerFactory | undefined,
  ) {
    this.weights = model.weights.map((weight) => weight.read() as tf.Variable);
  }

  layerOutput(name: string): tfl.SymbolicTensor {
    try {
      return this.model.getLayer(name).output as tfl.SymbolicTensor;
    } catch (error) {
      throw new BackboneError(
        'BACKBONE_INVALID',
        `Backbone '${this.descriptor.id}' has no layer '${name}'.`,
        this.descriptor.id,
        { cause: error },
      );
    }
  }

  /** The model from the image input to `layers`, built once per layer list. */
  private extractor(layers: readonly string[]): tfl.LayersModel {
    const key = layers.join('\n');
    let extractor = this.extractors.get(key);
    if (!extractor) {
      extractor = tfl.model({ inputs: this.model.inputs, outputs: layers.map((name) => this.layerOutput(name)) });
      this.extractors.set(key, extractor);
    }
    return extractor;
  }

  featureMaps(batch: tf.Tensor4D, layers: readonly string[]): tf.Tensor4D[] {
    const outputs = this.extractor(layers).predict(batch);
    return (Array.isArray(outputs) ? outputs : [outputs]) as tf.Tensor4D[];
  }

  async createRunner(layers: readonly string[]): Promise<FeatureRunner> {
    if (this.runnerFactory) return this.sharedRunner(this.runnerFactory, layers);
    const { inputSize } = this.descriptor;
    return {
      run: async (batch, n) => {
        const input = tf.tensor4d(batch, [n, inputSize, inputSize, 3]);
        const maps = this.featureMaps(input, layers);
        const values = await Promise.all(maps.map((map) => map.data() as Promise<Float32Array>));
        tf.dispose([input, ...maps]);
        return values;
      },
      dispose: () => undefined,
    };
  }

  /**
   * Building a runner (converting the graph to ONNX, then onnxruntime optimising it) takes about a second, several
   * times the forward pass of a batch: a frozen backbone builds one per layer list and every caller shares it (its
   * handle's dispose does nothing; the backbone's dispose releases it). While fine-tuning makes some of its
   * layers trainable, their weights change, so each runner is built afresh from the current weights.
   */
  private async sharedRunner(factory: FeatureRunnerFactory, layers: readonly string[]): Promise<FeatureRunner> {
    if (this.model.layers.some((layer) => layer.trainable)) return factory(this.model, [...layers]);
    const key = layers.join('\n');
    let shared = this.runners.get(key);
    if (!shared) {
      shared = factory(this.model, [...layers]);
      this.runners.set(key, shared);
      shared.catch(() => this.runners.delete(key));
    }
    const runner = await shared;
    return { run: (batch, n) => runner.run(batch, n), dispose: () => undefined };
  }

  dispose(): void {
    for (const runner of this.runners.values())
      void runner.then(
        (built) => built.dispose(),
        () => undefined,
      );
    this.runners.clear();
    // The extractors share the model's layers and weights. The weights are released directly, not by disposing the
    // model: a model built on its layers (a classifier, a detector) may have released the shared ones already.
    this.extractors.clear();
    tf.dispose(this.weights.filter((weight) => !weight.isDisposed));
  }
}
