import * as tfl from '@tensorflow/tfjs-layers';
import { SeededRandom } from '../random/seeded-random.js';
import type { Architecture, BuildOptions, BuiltModel } from './architecture.js';
import { classificationHead } from './classification-head.js';

/** Feature maps are downsampled to about this size before the dense layers. */
const TARGET_FEATURE_SIZE = 8;

/**
 * conv 16 → pool → conv 32 stride 2 (→ conv 64 stride 2 while the maps are larger than 8×8) → dense 64 → softmax.
 * Trains from scratch in seconds on small images.
 */
export const smallCnnArchitecture: Architecture = {
  id: 'small-cnn',
  task: 'classification',
  description: 'Small convolutional network trained from scratch; good for small images (28×28 grayscale, 32–64 px RGB).',
  defaultImageSize: 32,
  defaultChannels: 3,
  fit: 'resize',
  supportsAugmentation: true,

  async build({ imageSize, channels, labelCount, seed }: BuildOptions): Promise<BuiltModel> {
    const random = new SeededRandom(seed);
    const input = tfl.input({ name: 'image', shape: [imageSize.height, imageSize.width, channels] });
    let features = input;
    let size = Math.max(imageSize.width, imageSize.height);
    for (let block = 1; block <= 2 || size > TARGET_FEATURE_SIZE; block++) {
      const filters = Math.min(64, 8 * 2 ** block);
      // The first block pools; later blocks downsample with a stride-2 convolution instead, a quarter of the
      // multiply-adds of a full-resolution convolution followed by a pool, and no pooling gradient to compute.
      const strides = block === 1 ? 1 : 2;
      features = tfl.layers
        .conv2d({ name: `conv${block}`, filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: random.nextSeed() }) })
        .apply(features) as tfl.SymbolicTensor;
      if (block === 1) features = tfl.layers.maxPooling2d({ name: `pool${block}`, poolSize: 2 }).apply(features) as tfl.SymbolicTensor;
      size = block === 1 ? Math.floor(size / 2) : Math.ceil(size / 2);
    }
    features = tfl.layers.flatten({ name: 'flatten' }).apply(features) as tfl.SymbolicTensor;
    features = tfl.layers
      .dense({ name: 'hidden', units: 64, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: random.nextSeed() }) })
      .apply(features) as tfl.SymbolicTensor;
    const probabilities = tfl.layers
      .dense({ name: 'probabilities', units: labelCount, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: random.nextSeed() }) })
      .apply(features) as tfl.SymbolicTensor;
    const model = tfl.model({ name: 'small_cnn', inputs: input, outputs: probabilities });
    return { model, trainable: model, imageSize, channels, inputRange: [0, 1] };
  },

  ...classificationHead,
};
