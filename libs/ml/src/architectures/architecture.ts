import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Backbone } from '../backbones/backbone.js';
import type { LabeledBox } from '../boxes/box.js';
import type { Channels, ImageSize } from '../images/image-decoding.js';
import type { SerializedModel, Task } from '../models/model-serialization.js';

export interface BuildOptions {
  imageSize: ImageSize;
  channels: Channels;
  labelCount: number;
  /** Seeds every weight initializer, so a build is reproducible. */
  seed: number;
  /** The imported model a transfer architecture builds on. */
  baseModel?: SerializedModel;
  /** Pixel range the base model expects; default: from its metadata, else [0, 1]. */
  baseModelInputRange?: [number, number];
  /** The loaded pretrained backbone an architecture with `usesBackbone` builds on. */
  backbone?: Backbone;
  /** Classification architectures: softmax (one label per image, the default) or sigmoid (multilabel). */
  outputActivation?: 'softmax' | 'sigmoid';
}

/** A head trained on pooled embeddings of a backbone layer (computed once per image and view, then cached). */
export interface EmbeddingHead {
  backbone: Backbone;
  layer: string;
  dimension: number;
  /** The head's first dense layer: the embedding standardisation is folded into its weights after training. */
  head: tfl.layers.Layer;
}

export interface BuiltModel {
  /** The whole model, image in, task output out; this is what gets saved. */
  model: tfl.LayersModel;
  /** The part that is trained: `model` itself, or a head on top of `frozenFeatures`. */
  trainable: tfl.LayersModel;
  /** A frozen feature extractor whose output feeds `trainable`; run once per image, never trained. */
  frozenFeatures?: tfl.LayersModel;
  /** Input the model really takes; a transfer model keeps its base model's size, colour and range. */
  imageSize: ImageSize;
  channels: Channels;
  inputRange: [number, number];
  /** Present when `trainable` takes backbone embeddings rather than pixels. */
  embedding?: EmbeddingHead;
  /**
   * Present when `frozenFeatures` is the backbone cut at some of its layers and combined: the layers (their maps run
   * on the backbone's fast runner and are cached per image and view), and how their maps (one after the other) make
   * `trainable`'s input, the values `frozenFeatures` gives, written into `into` (a batch's buffer, at the example's place).
   */
  featureMaps?: { layers: string[]; combine(maps: Float32Array, into: Float32Array): void };
  /** A penalty added to the training loss (weight decay), a scalar. */
  regularization?: () => tf.Scalar;
}

/** What a training example contributes to the targets. */
export interface ExampleTarget {
  label?: number;
  /** Multilabel: every label index the example carries (possibly none). */
  labels?: readonly number[];
  /** Boxes in fractions of the model input (after letterboxing and augmentation). */
  boxes?: readonly LabeledBox[];
}

/** A task-level prediction: a label index with its probability and, for detection, a box in model-input fractions. */
export type RawPrediction = { label: number; probability: number; box?: LabeledBox };

export interface DecodeOptions {
  /** Drop predictions below this probability. */
  threshold: number;
  /** Detection: boxes of one label overlapping more than this are merged by NMS. */
  overlapThreshold: number;
  maxResults: number;
}

export interface Architecture {
  readonly id: string;
  readonly task: Task;
  readonly description: string;
  readonly defaultImageSize: number;
  readonly defaultChannels: Channels;
  readonly fit: 'resize' | 'letterbox';
  /** Whether random crops, flips and brightness changes may be applied while training. */
  readonly supportsAugmentation: boolean;
  /**
   * With a frozen feature extractor: augmented variants of each image whose features are computed once, besides
   * the unchanged image (training picks one of them per step). Without it, augmentation needs a forward pass.
   */
  readonly cachedAugmentations?: number;
  /**
   * A small head on cached features learns from few images in few batches: an epoch repeats the examples until it
   * has taken at least this many optimiser steps, so the default epochs train it fully.
   */
  readonly minStepsPerEpoch?: number;
  /**
   * A large training set needs fewer passes: an epoch takes at most this many optimiser steps (a fresh random part
   * of the training set each epoch), so a run's steps are bounded by epochs × this however many images there are.
   */
  readonly maxStepsPerEpoch?: number;
  /**
   * With cachedAugmentations: the most cached views of training images (each plus its augmented variants) in a run.
   * Past it each image keeps fewer augmented variants, at least one: many images vary enough between them, and the
   * cached maps (~0.5 MB a view for the detector) stay within memory.
   */
  readonly maxCachedViews?: number;
  /** Builds on a pretrained backbone (TrainingConfig.backbone), passed to `build` loaded. */
  readonly usesBackbone?: boolean;
  build(options: BuildOptions): Promise<BuiltModel>;
  /** Training targets for a batch, in the layout of the model output. */
  encodeTargets(targets: readonly ExampleTarget[], outputShape: readonly number[]): tf.Tensor;
  /** Mean loss of a batch (a scalar). */
  loss(targets: tf.Tensor, outputs: tf.Tensor): tf.Scalar;
  /** One image's output values (the model output without the batch axis) to predictions, best first. */
  decode(output: Float32Array, outputShape: readonly number[], options: DecodeOptions): RawPrediction[];
}
