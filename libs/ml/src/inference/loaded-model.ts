import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Architecture } from '../architectures/architecture.js';
import { getArchitecture } from '../architectures/architecture-registry.js';
import { classificationHead } from '../architectures/classification-head.js';
import { selectBackend, type BackendName } from '../backend/backend-selection.js';
import type { Box } from '../boxes/box.js';
import { boxFromLetterbox, type ImageSource } from '../images/image-decoding.js';
import { describeForeignModel } from '../models/foreign-model.js';
import { multiplyAddsPerImage, ONNX_RUNTIME_MIN_MULTIPLY_ADDS } from '../models/model-cost.js';
import { prepareImage, toInputArray, type InputSpec } from '../models/model-input.js';
import {
  deserializeModel,
  type ModelMetadata,
  type SerializedModel,
  type Task,
} from '../models/model-serialization.js';
import { FeatureMapHead } from './feature-map-head.js';
import {
  createOnnxFeatureExtractor,
  type FeatureExtractor,
  type ForwardRuntime,
} from '../onnx/onnx-feature-extractor.js';

export interface Prediction {
  label: string;
  labelIndex: number;
  probability: number;
  /** Detection: fractions of the original image, origin top-left. */
  box?: Box;
}

export interface PredictOptions {
  /** Leave out predictions below this probability. Default 0 for classification, 0.25 for detection. */
  threshold?: number;
  /** Detection: overlapping boxes of one label above this IoU are merged. Default 0.45. */
  overlapThreshold?: number;
  maxResults?: number;
}

export interface LoadOptions {
  /** Labels for a model without diyml metadata or Teachable Machine metadata.json. */
  labels?: string[];
  backend?: BackendName;
  /**
   * What runs predictions: 'auto' (default) onnxruntime-node for models of 20 million multiply-adds per image or
   * more, tfjs for smaller ones; 'onnxruntime' for any model; 'tfjs' always. tfjs whenever onnxruntime cannot load or convert it.
   */
  runtime?: 'auto' | ForwardRuntime;
}

/**
 * A model ready for inference. Load once and reuse: it holds its weights in the backend until `dispose`.
 * Predictions run synchronously on the backend; call from a worker thread to keep an event loop free.
 */
export class LoadedModel {
  /** The onnxruntime session predictions run on, when the model runs there. */
  private forward?: FeatureExtractor;

  /** diyml's metadata, for a model trained here. */
  private metadata?: ModelMetadata;

  private constructor(
    private readonly model: tfl.LayersModel,
    private readonly architecture: Pick<Architecture, 'decode'>,
    readonly task: Task,
    readonly labels: readonly string[],
    readonly inputSpec: InputSpec,
    /** The architecture id, or 'imported' for a model trained elsewhere. */
    readonly architectureId: string,
  ) {}

  static async load(serialized: SerializedModel, options: LoadOptions = {}): Promise<LoadedModel> {
    await selectBackend(options.backend);
    const { model, metadata } = await deserializeModel(serialized);
    let loaded: LoadedModel;
    try {
      loaded = LoadedModel.describe(model, metadata, serialized, options);
      loaded.metadata = metadata;
    } catch (error) {
      model.dispose();
      throw error;
    }
    const runtime = options.runtime ?? 'auto';
    if (
      runtime === 'onnxruntime' ||
      (runtime === 'auto' && multiplyAddsPerImage(model) >= ONNX_RUNTIME_MIN_MULTIPLY_ADDS)
    ) {
      const forward = await createOnnxFeatureExtractor(model, [], { runtime: 'auto' });
      if (forward.runtime === 'onnxruntime') loaded.forward = forward;
    }
    return loaded;
  }

  /**
   * A 'backbone-detector' model's head alone, for images whose backbone maps are cached: it shares this model's
   * layers and weights (no second copy), so dispose it before this model.
   */
  featureMapHead(options: { runtime?: 'auto' | ForwardRuntime } = {}): Promise<FeatureMapHead> {
    return FeatureMapHead.of(this.model, this.metadata, options);
  }

  /** Which runtime computes the predictions. */
  get runtime(): ForwardRuntime {
    return this.forward ? 'onnxruntime' : 'tfjs';
  }

  private static describe(
    model: tfl.LayersModel,
    metadata: ModelMetadata | undefined,
    serialized: SerializedModel,
    options: LoadOptions,
  ): LoadedModel {
    if (metadata) {
      const architecture = getArchitecture(metadata.architecture, metadata.task);
      const { imageSize, channels, fit, inputRange } = metadata;
      return new LoadedModel(
        model,
        architecture,
        metadata.task,
        options.labels ?? metadata.labels,
        { imageSize, channels, fit, inputRange },
        metadata.architecture,
      );
    }
    // A classifier trained elsewhere (Teachable Machine and the like): softmax output, stretched input.
    const foreign = describeForeignModel(model, serialized);
    const outputSize = model.outputs[0].shape[model.outputs[0].shape.length - 1] ?? 0;
    const labels = options.labels ?? foreign.labels ?? Array.from({ length: outputSize }, (_, i) => `class ${i}`);
    if (labels.length !== outputSize)
      throw new Error(`model predicts ${outputSize} classes but ${labels.length} labels were given`);
    const spec: InputSpec = {
      imageSize: foreign.imageSize,
      channels: foreign.channels,
      fit: 'resize',
      inputRange: foreign.inputRange,
    };
    return new LoadedModel(model, classificationHead, 'classification', labels, spec, 'imported');
  }

  async predict(image: ImageSource, options: PredictOptions = {}): Promise<Prediction[]> {
    const [predictions] = await this.predictBatch([image], options);
    return predictions;
  }

  /** Predictions for several images in one forward pass, each list sorted by probability. */
  async predictBatch(images: readonly ImageSource[], options: PredictOptions = {}): Promise<Prediction[][]> {
    const prepared = await Promise.all(images.map((image) => prepareImage(image, this.inputSpec)));
    const input = toInputArray(
      prepared.map((image) => image.pixels),
      this.inputSpec,
    );
    const outputs = this.forward
      ? {
          values: (await this.forward.run(input, images.length))[0],
          shape: [images.length, ...this.forward.outputs[0].shape],
        }
      : tf.tidy(() => {
          const { width, height } = this.inputSpec.imageSize;
          const output = this.model.predict(
            tf.tensor4d(input, [images.length, height, width, this.inputSpec.channels]),
          ) as tf.Tensor;
          return { values: output.dataSync() as Float32Array, shape: output.shape };
        });
    const size = outputs.values.length / images.length;
    const decodeOptions = {
      threshold: options.threshold ?? (this.task === 'detection' ? 0.25 : 0),
      overlapThreshold: options.overlapThreshold ?? 0.45,
      maxResults: options.maxResults ?? (this.task === 'detection' ? 100 : this.labels.length),
    };
    return prepared.map((image, index) =>
      this.architecture
        .decode(outputs.values.subarray(index * size, (index + 1) * size), outputs.shape.slice(1), decodeOptions)
        .map((raw) => ({
          label: this.labels[raw.label],
          labelIndex: raw.label,
          probability: raw.probability,
          ...(raw.box ? { box: boxFromLetterbox(raw.box, image.transform) } : {}),
        })),
    );
  }

  dispose(): void {
    void this.forward?.dispose();
    this.model.dispose();
  }
}

export function loadModel(serialized: SerializedModel, options?: LoadOptions): Promise<LoadedModel> {
  return LoadedModel.load(serialized, options);
}
