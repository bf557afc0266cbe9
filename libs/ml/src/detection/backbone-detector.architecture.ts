import * as tfl from '@tensorflow/tfjs-layers';
import type { Architecture, BuildOptions, BuiltModel } from '../architectures/architecture.js';
import { deserializeModel } from '../models/model-serialization.js';
import { SeededRandom } from '../random/seeded-random.js';
import { anchorFreeHead, headDepth } from './anchor-free-head.js';
import { loadMobileNetV2Features } from './mobilenet-v2-features.js';

/** The head predicts on the stride-16 grid, seeing the stride-32 features upsampled beside it. */
const GRID_STRIDE = 16;
const COARSE_STRIDE = 32;
const HEAD_WIDTH = 64;
/** Prior probability of an object in a cell: starts the class logits near the background (RetinaNet's init). */
const OBJECT_PRIOR = 0.01;
/** MobileNetV2's layers whose features the head reads: the issue's measurements favour these over the top. */
const MOBILENET_LAYERS = { fine: 'block_13_expand_relu', coarse: 'block_16_project_BN' };
/** MobileNetV2's own input size: a 14×14 grid of 16-pixel cells. */
const MOBILENET_SIDE = 224;

interface FeatureLayers {
  backbone: tfl.LayersModel;
  fine: tfl.SymbolicTensor;
  coarse: tfl.SymbolicTensor;
  inputRange: [number, number];
}

/**
 * A base model as a backbone: its deepest layers whose output is 1/16 and 1/32 of the input's size. The model keeps
 * its own input size, which must be divisible by 32.
 */
async function baseModelFeatures(options: BuildOptions): Promise<FeatureLayers> {
  const { model } = await deserializeModel(options.baseModel!);
  const [height, width] = model.inputs[0].shape.slice(1, 3) as number[];
  if (!(height % COARSE_STRIDE === 0 && width % COARSE_STRIDE === 0)) throw new RangeError(`a detection backbone needs an input size divisible by ${COARSE_STRIDE}, got ${width}×${height}`);
  const atStride = (stride: number) => {
    const layers = model.layers.filter((layer) => {
      const shape = (layer.output as tfl.SymbolicTensor).shape;
      return shape.length === 4 && shape[1] === height / stride && shape[2] === width / stride;
    });
    if (layers.length === 0) throw new RangeError(`the backbone has no layer at stride ${stride}`);
    return layers[layers.length - 1].output as tfl.SymbolicTensor;
  };
  return { backbone: model, fine: atStride(GRID_STRIDE), coarse: atStride(COARSE_STRIDE), inputRange: options.baseModelInputRange ?? [0, 1] };
}

async function mobileNetFeatures(): Promise<FeatureLayers> {
  const backbone = await loadMobileNetV2Features(MOBILENET_SIDE, [MOBILENET_LAYERS.fine, MOBILENET_LAYERS.coarse]);
  const [fine, coarse] = backbone.outputs;
  return { backbone, fine, coarse, inputRange: [0, 1] };
}

/**
 * Object detector on a pretrained backbone: the frozen backbone's stride-16 and (upsampled) stride-32 feature maps
 * feed a small convolutional FCOS-style head (class, box and centre-ness per cell of the stride-16 grid). Training
 * runs the backbone once per image and augmentation variant and trains the head on those cached features.
 */
export const backboneDetectorArchitecture: Architecture = {
  id: 'backbone-detector',
  task: 'detection',
  description:
    'Detector on a frozen pretrained MobileNetV2 (or the base model given): an anchor-free head finds several objects per image on the stride-16 feature grid.',
  defaultImageSize: MOBILENET_SIDE,
  defaultChannels: 3,
  fit: 'letterbox',
  supportsAugmentation: true,
  cachedAugmentations: 3,
  minStepsPerEpoch: 12,

  async build(options: BuildOptions): Promise<BuiltModel> {
    const { backbone, fine, coarse, inputRange } = options.baseModel ? await baseModelFeatures(options) : await mobileNetFeatures();
    for (const layer of backbone.layers) layer.trainable = false;
    const upsampled = tfl.layers.upSampling2d({ name: 'coarse_upsampled', size: [2, 2] }).apply(coarse) as tfl.SymbolicTensor;
    const features = tfl.layers.concatenate({ name: 'detection_features' }).apply([fine, upsampled]) as tfl.SymbolicTensor;
    const frozenFeatures = tfl.model({ name: 'frozen_features', inputs: backbone.inputs, outputs: features });

    const random = new SeededRandom(options.seed);
    const conv = (name: string, filters: number, kernelSize: number, activation: 'relu' | 'linear', biasInitializer?: ReturnType<typeof tfl.initializers.constant>) =>
      tfl.layers.conv2d({
        name,
        filters,
        kernelSize,
        padding: 'same',
        activation,
        kernelInitializer: activation === 'relu' ? tfl.initializers.heNormal({ seed: random.nextSeed() }) : tfl.initializers.randomNormal({ stddev: 0.01, seed: random.nextSeed() }),
        biasInitializer,
      });
    const layers = [
      conv('head_reduce', HEAD_WIDTH, 1, 'relu'),
      conv('head_conv1', HEAD_WIDTH, 3, 'relu'),
      conv('head_conv2', HEAD_WIDTH, 3, 'relu'),
    ];
    const classes = conv('head_classes', options.labelCount, 3, 'linear', tfl.initializers.constant({ value: -Math.log((1 - OBJECT_PRIOR) / OBJECT_PRIOR) }));
    const boxes = conv('head_boxes', headDepth(options.labelCount) - options.labelCount, 3, 'linear');
    const output = tfl.layers.concatenate({ name: 'detections' });
    const head = (input: tfl.SymbolicTensor) => {
      const hidden = layers.reduce((tensor, layer) => layer.apply(tensor) as tfl.SymbolicTensor, input);
      return output.apply([classes.apply(hidden) as tfl.SymbolicTensor, boxes.apply(hidden) as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
    };
    const featureInput = tfl.input({ name: 'features', shape: features.shape.slice(1) as number[] });
    const trainable = tfl.model({ name: 'detection_head', inputs: featureInput, outputs: head(featureInput) });
    const model = tfl.model({ name: 'backbone_detector', inputs: backbone.inputs, outputs: head(features) });
    const [height, width] = backbone.inputs[0].shape.slice(1, 3) as number[];
    return { model, trainable, frozenFeatures, imageSize: { width, height }, channels: 3, inputRange };
  },

  ...anchorFreeHead,
};
