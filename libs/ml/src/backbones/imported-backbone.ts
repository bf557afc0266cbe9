import type * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../backend/backend-selection.js';
import { describeForeignModel } from '../models/foreign-model.js';
import { deserializeModel, type SerializedModel } from '../models/model-serialization.js';
import { BackboneError, type BackboneDescriptor } from './backbone.js';

/**
 * A registry entry for a model trained or imported in diyml, used as a backbone: its deepest layer that still has
 * a spatial feature map (before pooling and the classifier) gives the embedding. Input size, colour and range come
 * from its metadata (diyml's, or Teachable Machine's).
 */
export async function describeImportedBackbone(id: string, serialized: SerializedModel): Promise<BackboneDescriptor> {
  await selectBackend();
  const { model, metadata } = await deserializeModel(serialized);
  try {
    const info = describeForeignModel(model, serialized);
    const { width, height } = info.imageSize;
    if (width !== height || info.channels !== 3) {
      throw new BackboneError('BACKBONE_INVALID', `Model ${id} takes ${width}×${height}×${info.channels} images; a backbone needs square RGB input.`, id);
    }
    const spatial = model.layers.filter((layer) => (layer.output as tfl.SymbolicTensor).shape?.length === 4 && !layer.getClassName().includes('Input'));
    const deepest = spatial[spatial.length - 1];
    if (!deepest) throw new BackboneError('BACKBONE_INVALID', `Model ${id} has no convolutional feature map to use as a backbone.`, id);
    const [, side, , channels] = (deepest.output as tfl.SymbolicTensor).shape as number[];
    return {
      id,
      description: `Imported model ${id}, cut at its layer ${deepest.name}.`,
      licence: 'as imported by its owner',
      inputSize: width,
      inputRange: metadata?.inputRange ?? info.inputRange,
      featureLayers: [{ name: deepest.name, stride: Math.round(width / side), channels }],
      embeddingLayer: deepest.name,
      source: { kind: 'model', model: serialized },
    };
  } finally {
    model.dispose();
  }
}
