import * as tfl from '@tensorflow/tfjs-layers';
import { deserializeModel } from '../models/model-serialization.js';
import { describeForeignModel } from '../models/foreign-model.js';
import { SeededRandom } from '../random/seeded-random.js';
import type { Architecture, BuildOptions, BuiltModel } from './architecture.js';
import { classificationHead } from './classification-head.js';

interface LayerWithActivation {
  activation?: { getClassName(): string };
  layers?: tfl.layers.Layer[];
}

/** A layer ends in a softmax/sigmoid classifier, possibly inside a nested model (Teachable Machine's head). */
function isClassifierLayer(layer: tfl.layers.Layer): boolean {
  const nested = (layer as unknown as LayerWithActivation).layers;
  if (nested?.length) return isClassifierLayer(nested[nested.length - 1]);
  const activation = (layer as unknown as LayerWithActivation).activation?.getClassName().toLowerCase();
  return (
    layer.getClassName() === 'Activation' ||
    layer.getClassName() === 'Softmax' ||
    activation === 'softmax' ||
    activation === 'sigmoid'
  );
}

/**
 * The base model's embedding: its output, minus a final classifier, averaged over space if still an image.
 * A dropped classifier's weights are released, as no model that gets disposed later holds them.
 */
function embeddingOf(base: tfl.LayersModel): tfl.SymbolicTensor {
  const lastLayer = base.layers[base.layers.length - 1];
  const dropClassifier = isClassifierLayer(lastLayer) && base.layers.length > 1;
  const end = dropClassifier ? base.layers[base.layers.length - 2] : lastLayer;
  if (dropClassifier) lastLayer.dispose();
  const output = end.output as tfl.SymbolicTensor;
  return output.shape.length === 4
    ? (tfl.layers.globalAveragePooling2d({ name: 'embedding_pool' }).apply(output) as tfl.SymbolicTensor)
    : output;
}

/**
 * Freezes an imported model (e.g. a Teachable Machine / MobileNet export) and trains a new softmax layer on its
 * embeddings. Embeddings are computed once per image, so training costs about one forward pass per image.
 */
export const transferArchitecture: Architecture = {
  id: 'transfer',
  task: 'classification',
  description:
    'New classifier head on a frozen imported model (Teachable Machine, MobileNet-style); needs a base model.',
  defaultImageSize: 224,
  defaultChannels: 3,
  fit: 'resize',
  supportsAugmentation: false,

  async build({
    baseModel,
    baseModelInputRange,
    labelCount,
    seed,
    outputActivation,
  }: BuildOptions): Promise<BuiltModel> {
    if (!baseModel) throw new Error("the 'transfer' architecture needs a base model");
    const { model: base } = await deserializeModel(baseModel);
    const info = describeForeignModel(base, baseModel);
    for (const layer of base.layers) layer.trainable = false;
    const embedding = embeddingOf(base);
    const frozenFeatures = tfl.model({ name: 'frozen_features', inputs: base.inputs, outputs: embedding });
    const classifier = tfl.layers.dense({
      name: 'transfer_probabilities',
      units: labelCount,
      activation: outputActivation ?? 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: new SeededRandom(seed).nextSeed() }),
    });
    const embeddingInput = tfl.input({ name: 'embedding', shape: embedding.shape.slice(1) as number[] });
    const trainable = tfl.model({
      name: 'transfer_head',
      inputs: embeddingInput,
      outputs: classifier.apply(embeddingInput) as tfl.SymbolicTensor,
    });
    const model = tfl.model({
      name: 'transfer',
      inputs: base.inputs,
      outputs: classifier.apply(embedding) as tfl.SymbolicTensor,
    });
    return {
      model,
      trainable,
      frozenFeatures,
      imageSize: info.imageSize,
      channels: info.channels,
      inputRange: baseModelInputRange ?? info.inputRange,
    };
  },

  ...classificationHead,
};
