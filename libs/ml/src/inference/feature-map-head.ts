import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { featureMapSpaceOf } from '../backbones/feature-maps.js';
import type { EmbeddingSpace } from '../backbones/embeddings.js';
import { anchorFreeHead } from '../detection/anchor-free-head.js';
import { detectorHeadOf, type DetectorHead } from '../detection/backbone-detector.architecture.js';
import { boxFromLetterbox, letterboxTransformOf, type ImageSource } from '../images/image-decoding.js';
import { deserializeModel, type ModelMetadata, type SerializedModel } from '../models/model-serialization.js';
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
  ) {}

  static async load(serialized: SerializedModel): Promise<FeatureMapHead> {
    const { model, metadata } = await deserializeModel(serialized);
    const head = metadata?.architecture === 'backbone-detector' ? detectorHeadOf(model) : null;
    if (!metadata || !head) {
      model.dispose();
      throw new Error("only a 'backbone-detector' model predicts from feature maps");
    }
    return new FeatureMapHead(model, head, metadata);
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
    const shape = this.head.model.inputs[0].shape.slice(1) as number[];
    const output = tf.tidy(() => {
      const result = this.head.model.predict(tf.tensor4d(input, [items.length, ...shape] as never)) as tf.Tensor;
      return { values: result.dataSync() as Float32Array, shape: result.shape };
    });
    const size = output.values.length / items.length;
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
    // The head shares the model's layers and weights: disposing the model releases them.
    this.model.dispose();
  }
}
