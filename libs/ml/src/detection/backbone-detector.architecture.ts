import * as tfl from '@tensorflow/tfjs-layers';
import type { Architecture, BuildOptions, BuiltModel } from '../architectures/architecture.js';
import { BackboneError } from '../backbones/backbone.js';
import { SeededRandom } from '../random/seeded-random.js';
import { anchorFreeHead, headDepth } from './anchor-free-head.js';

/** The head predicts on the stride-16 grid, seeing the stride-32 features upsampled beside it. */
const GRID_STRIDE = 16;
/** Names of the layers between the backbone's maps and the output, found again by `detectorHeadOf`. */
const UPSAMPLED = 'coarse_upsampled';
const FEATURES = 'detection_features';
const HIDDEN_LAYERS = ['head_reduce', 'head_conv1', 'head_conv2'];
const CLASSES = 'head_classes';
const BOXES = 'head_boxes';
const OUTPUT = 'detections';
const COARSE_STRIDE = 32;
const HEAD_WIDTH = 64;
/** Prior probability of an object in a cell: starts the class logits near the background (RetinaNet's init). */
const OBJECT_PRIOR = 0.01;
/** MobileNetV2's own input size (the default backbone's): a 14×14 grid of 16-pixel cells. */
const MOBILENET_SIDE = 224;

/**
 * Object detector on a pretrained backbone: the frozen backbone's stride-16 and (upsampled) stride-32 feature maps
 * feed a small convolutional FCOS-style head (class, box and centre-ness per cell of the stride-16 grid). Training
 * runs the backbone once per image and augmentation variant and trains the head on those cached features.
 */
export const backboneDetectorArchitecture: Architecture = {
  id: 'backbone-detector',
  task: 'detection',
  description:
    "Detector on a frozen pretrained backbone (MobileNetV2 by default, or the base iteration's model): an anchor-free head finds several objects per image on the stride-16 feature grid.",
  defaultImageSize: MOBILENET_SIDE,
  defaultChannels: 3,
  fit: 'letterbox',
  supportsAugmentation: true,
  cachedAugmentations: 3,
  minStepsPerEpoch: 12,
  // 10 epochs (the default) take at most 200 steps of 32 (~50 CPU-s): training sets up to 640 images train as before.
  maxStepsPerEpoch: 20,
  // 3,200 views of ~0.5 MB: all 4 views of up to 800 training images, 2 views each of 1,600.
  maxCachedViews: 3200,
  usesBackbone: true,

  async build(options: BuildOptions): Promise<BuiltModel> {
    const { backbone } = options;
    if (!backbone) throw new Error("the 'backbone-detector' architecture needs a loaded backbone");
    // The deepest stride-16 layer and the first stride-32 one: on MobileNetV2 block_13_expand_relu and
    // block_16_project_BN, which the measurements favour over the top layer.
    const { id, featureLayers, inputSize, inputRange } = backbone.descriptor;
    const fineLayer = featureLayers.filter((layer) => layer.stride === GRID_STRIDE).at(-1);
    const coarseLayer = featureLayers.find((layer) => layer.stride === COARSE_STRIDE);
    if (!fineLayer || !coarseLayer) {
      throw new BackboneError(
        'BACKBONE_INVALID',
        `Backbone ${id} has no feature layer at stride ${!fineLayer ? GRID_STRIDE : COARSE_STRIDE}; a detector needs both ${GRID_STRIDE} and ${COARSE_STRIDE}.`,
        id,
      );
    }
    const fine = backbone.layerOutput(fineLayer.name);
    const coarse = backbone.layerOutput(coarseLayer.name);
    const upsampled = tfl.layers.upSampling2d({ name: UPSAMPLED, size: [2, 2] }).apply(coarse) as tfl.SymbolicTensor;
    const features = tfl.layers.concatenate({ name: FEATURES }).apply([fine, upsampled]) as tfl.SymbolicTensor;
    const frozenFeatures = tfl.model({ name: 'frozen_features', inputs: backbone.model.inputs, outputs: features });

    const random = new SeededRandom(options.seed);
    const conv = (
      name: string,
      filters: number,
      kernelSize: number,
      activation: 'relu' | 'linear',
      biasInitializer?: ReturnType<typeof tfl.initializers.constant>,
    ) =>
      tfl.layers.conv2d({
        name,
        filters,
        kernelSize,
        padding: 'same',
        activation,
        kernelInitializer:
          activation === 'relu'
            ? tfl.initializers.heNormal({ seed: random.nextSeed() })
            : tfl.initializers.randomNormal({ stddev: 0.01, seed: random.nextSeed() }),
        biasInitializer,
      });
    const [reduce, conv1, conv2] = HIDDEN_LAYERS;
    const layers = [
      conv(reduce, HEAD_WIDTH, 1, 'relu'),
      conv(conv1, HEAD_WIDTH, 3, 'relu'),
      conv(conv2, HEAD_WIDTH, 3, 'relu'),
    ];
    const classes = conv(
      CLASSES,
      options.labelCount,
      3,
      'linear',
      tfl.initializers.constant({ value: -Math.log((1 - OBJECT_PRIOR) / OBJECT_PRIOR) }),
    );
    const boxes = conv(BOXES, headDepth(options.labelCount) - options.labelCount, 3, 'linear');
    const output = tfl.layers.concatenate({ name: OUTPUT });
    const head = (input: tfl.SymbolicTensor) => {
      const hidden = layers.reduce((tensor, layer) => layer.apply(tensor) as tfl.SymbolicTensor, input);
      return output.apply([
        classes.apply(hidden) as tfl.SymbolicTensor,
        boxes.apply(hidden) as tfl.SymbolicTensor,
      ]) as tfl.SymbolicTensor;
    };
    const featureInput = tfl.input({ name: 'features', shape: features.shape.slice(1) as number[] });
    const trainable = tfl.model({ name: 'detection_head', inputs: featureInput, outputs: head(featureInput) });
    const model = tfl.model({ name: 'backbone_detector', inputs: backbone.model.inputs, outputs: head(features) });
    const fineSide = Math.ceil(inputSize / GRID_STRIDE);
    const coarseSide = Math.ceil(inputSize / COARSE_STRIDE);
    if (coarseSide * 2 !== fineSide)
      throw new BackboneError(
        'BACKBONE_INVALID',
        `Backbone ${id} takes ${inputSize}-pixel images; a detector needs a multiple of ${COARSE_STRIDE}.`,
        id,
      );
    const featureMaps = {
      layers: [fineLayer.name, coarseLayer.name],
      combine: (maps: Float32Array, into: Float32Array) =>
        combineFeatureMaps(maps, into, fineSide, fineLayer.channels, coarseLayer.channels),
    };
    return {
      model,
      trainable,
      frozenFeatures,
      featureMaps,
      imageSize: { width: inputSize, height: inputSize },
      channels: 3,
      inputRange,
    };
  },

  ...anchorFreeHead,
};

/** The head of a trained backbone detector alone, fed the backbone's maps as the feature-map cache holds them. */
export interface DetectorHead {
  /** The backbone layers the head reads, fine (stride 16) then coarse (stride 32): the maps' order. */
  layers: [string, string];
  /** Values of one image's maps: the fine map then the coarse one, each [side, side, channels]. */
  mapLength: number;
  /** The head, from the combined features (the fine map beside the upsampled coarse one) to the detections. */
  model: tfl.LayersModel;
  /** The head's input for one image's maps, written into `into` (`featureLength` values). */
  combine(maps: Float32Array, into: Float32Array): void;
  featureLength: number;
}

/**
 * The head of a 'backbone-detector' model, sharing its layers and weights (dispose the model, not the head), or
 * null when the model is not laid out as this architecture builds it.
 */
export function detectorHeadOf(model: tfl.LayersModel): DetectorHead | null {
  const layer = (name: string) => model.layers.find((candidate) => candidate.name === name);
  const features = layer(FEATURES);
  const upsampled = layer(UPSAMPLED);
  const hidden = HIDDEN_LAYERS.map(layer);
  const [classes, boxes, output] = [layer(CLASSES), layer(BOXES), layer(OUTPUT)];
  const fine = features?.inboundNodes[0]?.inboundLayers[0];
  const coarse = upsampled?.inboundNodes[0]?.inboundLayers[0];
  if (!features || !fine || !coarse || !classes || !boxes || !output || hidden.some((found) => !found)) return null;
  const [, side, , fineChannels] = fine.outputShape as number[];
  const [, coarseSide, , coarseChannels] = coarse.outputShape as number[];
  if (coarseSide * 2 !== side) return null;
  const featureLength = side * side * (fineChannels + coarseChannels);
  const input = tfl.input({ name: 'cached_features', shape: [side, side, fineChannels + coarseChannels] });
  const hiddenOutput = hidden.reduce(
    (tensor, next) => next!.apply(tensor) as tfl.SymbolicTensor,
    input as tfl.SymbolicTensor,
  );
  const detections = output.apply([
    classes.apply(hiddenOutput) as tfl.SymbolicTensor,
    boxes.apply(hiddenOutput) as tfl.SymbolicTensor,
  ]) as tfl.SymbolicTensor;
  return {
    layers: [fine.name, coarse.name],
    mapLength: side * side * fineChannels + coarseSide * coarseSide * coarseChannels,
    model: tfl.model({ name: 'detection_head_on_cached_maps', inputs: input, outputs: detections }),
    combine: (maps, into) => combineFeatureMaps(maps, into, side, fineChannels, coarseChannels),
    featureLength,
  };
}

/**
 * `frozenFeatures`' output from the two layers' maps (the fine map then the coarse one, channels last), written into
 * `combined`: per cell of the fine grid, its fine channels, then the channels of the coarse cell above it (the
 * nearest-neighbour ×2 upsampling of 'coarse_upsampled').
 */
function combineFeatureMaps(
  maps: Float32Array,
  combined: Float32Array,
  side: number,
  fineChannels: number,
  coarseChannels: number,
): void {
  const channels = fineChannels + coarseChannels;
  const coarse = maps.subarray(side * side * fineChannels);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const cell = y * side + x;
      const coarseCell = (y >> 1) * (side >> 1) + (x >> 1);
      combined.set(maps.subarray(cell * fineChannels, (cell + 1) * fineChannels), cell * channels);
      combined.set(
        coarse.subarray(coarseCell * coarseChannels, (coarseCell + 1) * coarseChannels),
        cell * channels + fineChannels,
      );
    }
}
