import { BackboneError, type BackboneDescriptor } from './backbone.js';

/**
 * The MobileNetV2 (ImageNet-pretrained, width 1.0, 224 px) that nsfwjs@4 fine-tuned and ships in its npm package
 * (Keras layers model, uint8-quantised weights, 3.5 MB, inputs scaled to [0, 1] as nsfwjs does). Its top layers
 * were tuned to nsfwjs's five classes, so features come from inside the network: block_13_expand_relu (stride 16)
 * and block_16_project_BN (stride 32) beat the final out_relu on general photos.
 * nsfwjs also ships `mobilenet_v2_mid` (width 1.4, a tfjs graph model, not a layers model: no named layers to cut
 * at) and an InceptionV3 (28 MB, 299 px); neither is registered.
 */
export const MOBILENET_V2_NSFWJS: BackboneDescriptor = {
  id: 'mobilenet-v2',
  description:
    'General photo features for classification and detection: MobileNetV2 (width 1.0, 224 px RGB, pretrained on ' +
    'ImageNet), features from inside the network. Works offline: the weights come with the npm package nsfwjs@4.',
  licence: 'MIT (nsfwjs); MobileNetV2 ImageNet weights Apache-2.0 (Keras Applications)',
  inputSize: 224,
  inputRange: [0, 1],
  featureLayers: [
    { name: 'block_3_expand_relu', stride: 4, channels: 144 },
    { name: 'block_6_expand_relu', stride: 8, channels: 192 },
    { name: 'block_13_expand_relu', stride: 16, channels: 576 },
    { name: 'block_16_project_BN', stride: 32, channels: 320 },
    { name: 'out_relu', stride: 32, channels: 1280 },
  ],
  embeddingLayer: 'block_13_expand_relu',
  // Block 13's expansion (from block 12's output). Block 12 has a depthwise convolution, whose gradient the wasm
  // backend lacks (DepthwiseConv2dNativeBackpropInput/Filter): it stays frozen.
  fineTuneStarts: ['block_12_add'],
  source: {
    kind: 'npm-package',
    package: 'nsfwjs',
    directory: 'dist/models/mobilenet_v2',
    modelFile: 'model.min.js',
    wrapped: true,
  },
};

const builtIn: readonly BackboneDescriptor[] = [MOBILENET_V2_NSFWJS];
const registered = new Map<string, BackboneDescriptor>(builtIn.map((descriptor) => [descriptor.id, descriptor]));

/** The default backbone for classifying photos. */
export const DEFAULT_BACKBONE_ID = MOBILENET_V2_NSFWJS.id;

/** Every registered backbone: the built-in ones first, then those added by configuration. */
export function listBackbones(): BackboneDescriptor[] {
  return [...registered.values()];
}

/** Adds (or replaces) a backbone, e.g. a URL backbone from configuration or a tiny one in tests. */
export function registerBackbone(descriptor: BackboneDescriptor): void {
  validateDescriptor(descriptor);
  registered.set(descriptor.id, descriptor);
}

export function unregisterBackbone(id: string): void {
  if (builtIn.some((descriptor) => descriptor.id === id))
    throw new RangeError(`backbone '${id}' is built in and cannot be removed`);
  registered.delete(id);
}

export function getBackbone(id: string): BackboneDescriptor {
  const found = registered.get(id);
  if (!found)
    throw new BackboneError(
      'UNKNOWN_BACKBONE',
      `Unknown backbone '${id}'; known: ${[...registered.keys()].join(', ')}.`,
      id,
    );
  return found;
}

function validateDescriptor(descriptor: BackboneDescriptor): void {
  const problems: string[] = [];
  if (!/^[a-z0-9][a-z0-9._:-]*$/i.test(descriptor.id)) problems.push('id must be letters, digits and . _ : -');
  if (!Number.isInteger(descriptor.inputSize) || descriptor.inputSize < 8)
    problems.push('inputSize must be an integer ≥ 8');
  if (!(descriptor.inputRange[0] < descriptor.inputRange[1]))
    problems.push('inputRange must be [low, high] with low < high');
  if (descriptor.featureLayers.length === 0) problems.push('featureLayers must name at least one layer');
  if (!descriptor.featureLayers.some((layer) => layer.name === descriptor.embeddingLayer))
    problems.push(`embeddingLayer '${descriptor.embeddingLayer}' must be one of featureLayers`);
  if (descriptor.source.kind === 'url') {
    try {
      new URL(descriptor.source.url);
    } catch {
      problems.push(`source.url '${descriptor.source.url}' is not a URL`);
    }
  }
  if (problems.length > 0)
    throw new BackboneError(
      'BACKBONE_INVALID',
      `Backbone '${descriptor.id}' is not valid: ${problems.join('; ')}.`,
      descriptor.id,
    );
}
