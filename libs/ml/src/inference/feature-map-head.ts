import type * as tfl from '@tensorflow/tfjs-layers';
import type { Backbone, BackboneDescriptor } from '../backbones/backbone.js';
import { concatenateMaps, featureMapSpaceOf } from '../backbones/feature-maps.js';
import { forEachFeatureMap, IDENTITY_VIEW, type EmbeddingSpace } from '../backbones/embeddings.js';
import { anchorFreeHead } from '../detection/anchor-free-head.js';
import { detectorHeadOf, type DetectorHead } from '../detection/backbone-detector.architecture.js';
import { boxFromLetterbox, letterboxTransformOf, type ImageSource } from '../images/image-decoding.js';
import { multiplyAddsPerImage, ONNX_RUNTIME_MIN_MULTIPLY_ADDS } from '../models/model-cost.js';
import { prepareImage } from '../models/model-input.js';
import { deserializeModel, type ModelMetadata, type SerializedModel } from '../models/model-serialization.js';
import {
  createOnnxFeatureExtractor,
  type FeatureExtractor,
  type ForwardRuntime,
} from '../onnx/onnx-feature-extractor.js';
import type { Prediction, PredictOptions } from './loaded-model.js';

/** An image and its backbone maps at the head's layers (as the feature-map cache holds its identity view). */
export interface ImageWithMaps {
  /** The encoded image (or raw pixels): its size places the boxes on it. */
  image: ImageSource;
  maps: Float32Array;
}

/**
 * The head of a 'backbone-detector' model alone: from an image's cached backbone maps it predicts the boxes the whole
 * model predicts from the image, without running the backbone. A detector's backbone is always frozen, so the maps
 * cached while training it are the ones its backbone gives.
 */
export class FeatureMapHead {
  private constructor(
    private readonly model: tfl.LayersModel,
    private readonly head: DetectorHead,
    private readonly metadata: ModelMetadata,
    private readonly forward: FeatureExtractor,
    /** False when the head was made from a LoadedModel's model, which its owner disposes. */
    private readonly ownsModel: boolean,
  ) {}

  /**
   * `runtime`: what runs the head, as for LoadedModel: 'auto' (default) onnxruntime-node from 20 million
   * multiply-adds per image on (the head on MobileNetV2's maps: about 25 million, several times faster there than on
   * tfjs wasm), tfjs for smaller heads or when onnxruntime cannot run it.
   */
  static async load(
    serialized: SerializedModel,
    { runtime = 'auto' }: { runtime?: 'auto' | ForwardRuntime } = {},
  ): Promise<FeatureMapHead> {
    const { model, metadata } = await deserializeModel(serialized);
    try {
      return await FeatureMapHead.build(model, metadata, runtime, true);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  /** The head of a detector already loaded (see LoadedModel.featureMapHead), sharing its weights. */
  static of(
    model: tfl.LayersModel,
    metadata: ModelMetadata | undefined,
    { runtime = 'auto' }: { runtime?: 'auto' | ForwardRuntime } = {},
  ): Promise<FeatureMapHead> {
    return FeatureMapHead.build(model, metadata, runtime, false);
  }

  private static async build(
    model: tfl.LayersModel,
    metadata: ModelMetadata | undefined,
    runtime: 'auto' | ForwardRuntime,
    ownsModel: boolean,
  ): Promise<FeatureMapHead> {
    const head = metadata?.architecture === 'backbone-detector' ? detectorHeadOf(model) : null;
    if (!metadata || !head) throw new Error("only a 'backbone-detector' model predicts from feature maps");
    const onnx =
      runtime === 'onnxruntime' ||
      (runtime === 'auto' && multiplyAddsPerImage(head.model) >= ONNX_RUNTIME_MIN_MULTIPLY_ADDS);
    const forward = await createOnnxFeatureExtractor(head.model, [], { runtime: onnx ? 'auto' : 'tfjs' });
    return new FeatureMapHead(model, head, metadata, forward, ownsModel);
  }

  /** Which runtime computes the head. */
  get runtime(): ForwardRuntime {
    return this.forward.runtime;
  }

  /** Values of one image's maps the head takes. */
  get mapLength(): number {
    return this.head.mapLength;
  }

  /**
   * Whether maps of `space` are what this head reads: the same backbone layers and preprocessing (input size,
   * fitting, range). The backbone id is the cache's own key; maps of another backbone's space do not fit.
   */
  reads(space: EmbeddingSpace, mapLength: number): boolean {
    const expected = featureMapSpaceOf(
      { id: space.backbone, inputSize: this.metadata.imageSize.width, inputRange: this.metadata.inputRange },
      this.head.layers,
      this.metadata.fit,
    );
    return (
      mapLength === this.head.mapLength &&
      space.layer === expected.layer &&
      space.preprocessing === expected.preprocessing
    );
  }

  /** The cache space of the maps this head reads when `backbone` (the one frozen in the model) computes them. */
  spaceOn(backbone: Pick<BackboneDescriptor, 'id' | 'inputSize' | 'inputRange'>): EmbeddingSpace {
    return featureMapSpaceOf(backbone, this.head.layers, this.metadata.fit);
  }

  /**
   * The maps this head reads of each image, computed by `backbone` (the one frozen in the model) from the image
   * decoded and fitted as training decodes it: what the feature-map cache holds as the image's identity view.
   */
  async mapsFrom(
    backbone: Backbone,
    images: readonly ImageSource[],
    batchSize: number,
    signal?: AbortSignal,
  ): Promise<Float32Array[]> {
    const { inputSize } = backbone.descriptor;
    if (inputSize !== this.metadata.imageSize.width || inputSize !== this.metadata.imageSize.height)
      throw new RangeError(
        `backbone '${backbone.descriptor.id}' takes ${inputSize} px; the head was trained on ${this.metadata.imageSize.width} px`,
      );
    const items = await Promise.all(
      images.map(async (image, index) => ({
        index,
        job: { hash: String(index), pixels: (await prepareImage(image, this.metadata)).pixels },
        view: IDENTITY_VIEW,
      })),
    );
    const maps = new Array<Float32Array>(images.length);
    await forEachFeatureMap(
      backbone,
      this.head.layers,
      items,
      batchSize,
      ({ index }, layerMaps) => (maps[index] = concatenateMaps(layerMaps)),
      signal,
    );
    return maps;
  }

  /** One list per image, sorted by probability, as LoadedModel.predictBatch lists them. */
  async predict(items: readonly ImageWithMaps[], options: PredictOptions = {}): Promise<Prediction[][]> {
    if (items.length === 0) return [];
    const { featureLength, combine } = this.head;
    const wrong = items.findIndex((item) => item.maps.length !== this.head.mapLength);
    if (wrong >= 0)
      throw new RangeError(
        `maps of image ${wrong} have ${items[wrong].maps.length} values; the head takes ${this.head.mapLength}`,
      );
    const input = new Float32Array(items.length * featureLength);
    items.forEach((item, index) =>
      combine(item.maps, input.subarray(index * featureLength, (index + 1) * featureLength)),
    );
    const [values] = await this.forward.run(input, items.length);
    const output = { values, shape: [items.length, ...this.forward.outputs[0].shape] };
    const size = values.length / items.length;
    const decodeOptions = {
      threshold: options.threshold ?? 0.25,
      overlapThreshold: options.overlapThreshold ?? 0.45,
      maxResults: options.maxResults ?? 100,
    };
    const transforms = await Promise.all(
      items.map((item) => letterboxTransformOf(item.image, this.metadata.imageSize)),
    );
    return items.map((_, index) =>
      anchorFreeHead
        .decode(output.values.subarray(index * size, (index + 1) * size), output.shape.slice(1), decodeOptions)
        .map((raw) => ({
          label: this.metadata.labels[raw.label],
          labelIndex: raw.label,
          probability: raw.probability,
          ...(raw.box ? { box: boxFromLetterbox(raw.box, transforms[index]) } : {}),
        })),
    );
  }

  dispose(): void {
    void this.forward.dispose();
    // The head shares the model's layers and weights: disposing the model releases them.
    if (this.ownsModel) this.model.dispose();
  }
}
