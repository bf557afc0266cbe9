import * as tfl from '@tensorflow/tfjs-layers';
import { SeededRandom } from '../random/seeded-random.js';
import type { Architecture, BuildOptions, BuiltModel } from './architecture.js';
import { classificationHead } from './classification-head.js';

/** Feature maps are downsampled to about this size before the dense layers. */
const TARGET_FEATURE_SIZE = 8;

/**
 * conv 16 5×5 stride 2 → conv 32 3×3 stride 2 (→ conv 64 3×3 stride 2 while the maps are larger than 8×8) → dense 64
 * → softmax.
 * Trains from scratch in seconds on small images.
 */
export const smallCnnArchitecture: Architecture = {
  id: 'small-cnn',
  task: 'classification',
  description:
    'Small convolutional network trained from scratch; good for small images (28×28 grayscale, 32–64 px RGB).',
  defaultImageSize: 32,
  defaultChannels: 3,
  fit: 'resize',
  supportsAugmentation: true,

  async build({ imageSize, channels, labelCount, seed, outputActivation }: BuildOptions): Promise<BuiltModel> {
    const random = new SeededRandom(seed);
    const input = tfl.input({ name: 'image', shape: [imageSize.height, imageSize.width, channels] });
    let features = input;
    let size = Math.max(imageSize.width, imageSize.height);
    for (let block = 1; block <= 2 || size > TARGET_FEATURE_SIZE; block++) {
      const filters = Math.min(64, 8 * 2 ** block);
      // Every block downsamples with a stride-2 convolution (the first with a 5×5 window) instead of a convolution
      // at full resolution followed by a max-pool: a quarter of the positions, and no pooling gradient.
      const kernelSize = block === 1 ? 5 : 3;
      features = tfl.layers
        .conv2d({
          name: `conv${block}`,
          filters,
          kernelSize,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tfl.initializers.heNormal({ seed: random.nextSeed() }),
        })
        .apply(features) as tfl.SymbolicTensor;
      size = Math.ceil(size / 2);
    }
    features = tfl.layers.flatten({ name: 'flatten' }).apply(features) as tfl.SymbolicTensor;
    features = tfl.layers
      .dense({
        name: 'hidden',
        units: 64,
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed: random.nextSeed() }),
      })
      .apply(features) as tfl.SymbolicTensor;
    const probabilities = tfl.layers
      .dense({
        name: 'probabilities',
        units: labelCount,
        activation: outputActivation ?? 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: random.nextSeed() }),
      })
      .apply(features) as tfl.SymbolicTensor;
    const model = tfl.model({ name: 'small_cnn', inputs: input, outputs: probabilities });
    return { model, trainable: model, imageSize, channels, inputRange: [0, 1] };
  },

  ...classificationHead,
};
