import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { SeededRandom } from '../random/seeded-random.js';
import type { Architecture, BuildOptions, BuiltModel } from './architecture.js';
import { classificationHead } from './classification-head.js';

/**
 * L2 penalty on the head's weights (per weight, added to the mean cross-entropy). Few-shot sets have far fewer
 * images than embedding dimensions; without it the head memorises the training photos.
 */
export const HEAD_WEIGHT_DECAY = 1e-4;

/**
 * A softmax head on the pooled, standardised activations of a frozen pretrained backbone (MobileNetV2 by default).
 * The backbone runs once per image and view, so training costs a few forward passes per image; the saved model is
 * one model from image to probabilities (backbone, pooling, head with the standardisation folded in).
 */
export const backboneClassifierArchitecture: Architecture = {
  id: 'backbone-classifier',
  task: 'classification',
  description: 'Softmax head on standardised embeddings of a frozen pretrained backbone (default for photos).',
  defaultImageSize: 224,
  defaultChannels: 3,
  fit: 'resize',
  // Augmentation happens as fixed augmented views whose embeddings are computed once (see embeddingViews).
  supportsAugmentation: false,
  usesBackbone: true,
  // A few-shot set is one or two batches of embeddings: an epoch repeats its views until it has taken this many steps.
  minStepsPerEpoch: 50,

  async build({ backbone, labelCount, seed, outputActivation }: BuildOptions): Promise<BuiltModel> {
    if (!backbone) throw new Error("the 'backbone-classifier' architecture needs a loaded backbone");
    const { embeddingLayer, featureLayers, inputSize, inputRange } = backbone.descriptor;
    const dimension = featureLayers.find((layer) => layer.name === embeddingLayer)!.channels;
    const head = tfl.layers.dense({
      name: 'backbone_probabilities',
      units: labelCount,
      activation: outputActivation ?? 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: new SeededRandom(seed).nextSeed() }),
    });
    const embeddingInput = tfl.input({ name: 'embedding', shape: [dimension] });
    const trainable = tfl.model({
      name: 'backbone_head',
      inputs: embeddingInput,
      outputs: head.apply(embeddingInput) as tfl.SymbolicTensor,
    });
    const pooled = tfl.layers
      .globalAveragePooling2d({ name: 'embedding_pool' })
      .apply(backbone.layerOutput(embeddingLayer)) as tfl.SymbolicTensor;
    const model = tfl.model({
      name: 'backbone_classifier',
      inputs: backbone.model.inputs,
      outputs: head.apply(pooled) as tfl.SymbolicTensor,
    });
    const kernel = () => head.trainableWeights[0].read();
    return {
      model,
      trainable,
      imageSize: { width: inputSize, height: inputSize },
      channels: 3,
      inputRange,
      embedding: { backbone, layer: embeddingLayer, dimension, head },
      regularization: () => tf.tidy(() => tf.mul(HEAD_WEIGHT_DECAY, tf.sum(tf.square(kernel())))),
    };
  },

  ...classificationHead,
};
