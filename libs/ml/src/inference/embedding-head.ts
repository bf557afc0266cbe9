import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { classificationHead } from '../architectures/classification-head.js';
import { deserializeModel, type SerializedModel } from '../models/model-serialization.js';
import type { Prediction, PredictOptions } from './loaded-model.js';

/** The dense softmax layer a 'backbone-classifier' model ends in (standardisation folded in). */
const BACKBONE_HEAD_LAYER = 'backbone_probabilities';

/**
 * The head of a 'backbone-classifier' model alone: it predicts from pooled embeddings of the model's backbone
 * layer (as the embedding cache holds them) what the whole model predicts from the images, without running the
 * backbone again. Only for a frozen backbone: a fine-tuned model's backbone no longer gives the cached embeddings.
 */
export class EmbeddingHead {
  private constructor(
    private readonly model: tfl.LayersModel,
    private readonly head: tfl.layers.Layer,
    readonly labels: readonly string[],
    readonly dimension: number,
  ) {}

  static async load(serialized: SerializedModel): Promise<EmbeddingHead> {
    const { model, metadata } = await deserializeModel(serialized);
    const head =
      metadata?.architecture === 'backbone-classifier'
        ? model.layers.find((layer) => layer.name === BACKBONE_HEAD_LAYER)
        : undefined;
    if (!metadata || !head) {
      model.dispose();
      throw new Error("only a 'backbone-classifier' model predicts from embeddings");
    }
    const dimension = (head.getWeights()[0].shape[0] as number | undefined) ?? 0;
    return new EmbeddingHead(model, head, metadata.labels, dimension);
  }

  /** One list per embedding, sorted by probability, as LoadedModel.predictBatch lists them. */
  predict(embeddings: readonly Float32Array[], options: PredictOptions = {}): Prediction[][] {
    if (embeddings.length === 0) return [];
    const wrong = embeddings.findIndex((embedding) => embedding.length !== this.dimension);
    if (wrong >= 0)
      throw new RangeError(
        `embedding ${wrong} has ${embeddings[wrong].length} values; the head takes ${this.dimension}`,
      );
    const input = new Float32Array(embeddings.length * this.dimension);
    embeddings.forEach((embedding, index) => input.set(embedding, index * this.dimension));
    const probabilities = tf.tidy(
      () =>
        (
          this.head.apply(tf.tensor2d(input, [embeddings.length, this.dimension])) as tf.Tensor
        ).dataSync() as Float32Array,
    );
    const labelCount = this.labels.length;
    const decodeOptions = {
      threshold: options.threshold ?? 0,
      overlapThreshold: 0,
      maxResults: options.maxResults ?? labelCount,
    };
    return embeddings.map((_, index) =>
      classificationHead
        .decode(probabilities.subarray(index * labelCount, (index + 1) * labelCount), [labelCount], decodeOptions)
        .map((raw) => ({ label: this.labels[raw.label], labelIndex: raw.label, probability: raw.probability })),
    );
  }

  dispose(): void {
    this.model.dispose();
  }
}
