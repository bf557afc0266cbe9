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
      throw new BackboneError(
        'BACKBONE_INVALID',
        `Model ${id} takes ${width}×${height}×${info.channels} images; a backbone needs square RGB input.`,
        id,
      );
    }
    const spatial = model.layers.filter(
      (layer) => (layer.output as tfl.SymbolicTensor).shape?.length === 4 && !layer.getClassName().includes('Input'),
    );
    const deepest = spatial[spatial.length - 1];
    if (!deepest)
      throw new BackboneError(
        'BACKBONE_INVALID',
        `Model ${id} has no convolutional feature map to use as a backbone.`,
        id,
      );
    // The deepest layer at each stride, shallow to deep (a detector reads two of them); the last is `deepest`.
    const byStride = new Map<number, { name: string; stride: number; channels: number }>();
    for (const layer of spatial) {
      const [, side, , channels] = (layer.output as tfl.SymbolicTensor).shape as number[];
      const stride = Math.round(width / side);
      byStride.delete(stride);
      byStride.set(stride, { name: layer.name, stride, channels });
    }
    return {
      id,
      description: `Imported model ${id}, cut at its layer ${deepest.name}.`,
      licence: 'as imported by its owner',
      inputSize: width,
      inputRange: metadata?.inputRange ?? info.inputRange,
      featureLayers: [...byStride.values()],
      embeddingLayer: deepest.name,
      source: { kind: 'model', model: serialized },
    };
  } finally {
    model.dispose();
  }
}
