import * as tfl from '@tensorflow/tfjs-layers';
import { SeededRandom } from '../random/seeded-random.js';
import type { Architecture, BuildOptions, BuiltModel } from './architecture.js';
import { detectionHead } from './detection-head.js';

/** The backbone halves the resolution this many times: a 64 px input gives an 8×8 grid. */
const DOWNSAMPLINGS = 3;

/** Compact single-stage detector: conv/pool backbone with stride 8, then a 1×1 conv predicting the grid head. */
export const tinyDetectorArchitecture: Architecture = {
  id: 'tiny-detector',
  task: 'detection',
  description:
    'Compact single-stage grid detector (objectness, box and class per cell of a stride-8 grid) trained from scratch.',
  defaultImageSize: 96,
  defaultChannels: 3,
  fit: 'letterbox',
  supportsAugmentation: true,

  async build({ imageSize, channels, labelCount, seed }: BuildOptions): Promise<BuiltModel> {
    const stride = 2 ** DOWNSAMPLINGS;
    if (imageSize.width % stride !== 0 || imageSize.height % stride !== 0) {
      throw new RangeError(
        `tiny-detector needs an image size divisible by ${stride}, got ${imageSize.width}×${imageSize.height}`,
      );
    }
    const random = new SeededRandom(seed);
    const conv = (name: string, filters: number, kernelSize: number, activation: 'relu' | 'linear') =>
      tfl.layers.conv2d({
        name,
        filters,
        kernelSize,
        padding: 'same',
        activation,
        kernelInitializer: tfl.initializers.heNormal({ seed: random.nextSeed() }),
      });
    const input = tfl.input({ name: 'image', shape: [imageSize.height, imageSize.width, channels] });
    let features = input;
    for (let block = 1; block <= DOWNSAMPLINGS; block++) {
      features = conv(`conv${block}`, Math.min(64, 8 * 2 ** block), 3, 'relu').apply(features) as tfl.SymbolicTensor;
      features = tfl.layers.maxPooling2d({ name: `pool${block}`, poolSize: 2 }).apply(features) as tfl.SymbolicTensor;
    }
    features = conv('neck', 64, 3, 'relu').apply(features) as tfl.SymbolicTensor;
    const grid = tfl.layers
      .conv2d({
        name: 'grid',
        filters: 5 + labelCount,
        kernelSize: 1,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: random.nextSeed() }),
      })
      .apply(features) as tfl.SymbolicTensor;
    const model = tfl.model({ name: 'tiny_detector', inputs: input, outputs: grid });
    return { model, trainable: model, imageSize, channels, inputRange: [0, 1] };
  },

  ...detectionHead,
};
