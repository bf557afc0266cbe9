import * as tfl from '@tensorflow/tfjs-layers';
import type { BackboneDescriptor, WeightSource } from '../backbones/backbone.js';
import { serializeModel, type SerializedModel } from '../models/model-serialization.js';
import type { TrainingConfig } from '../training/training-types.js';

/** Input side of the tiny test backbone. */
export const TINY_BACKBONE_SIZE = 32;

/**
 * A tiny random-weight convolutional backbone (32 px RGB, five stride-2 stages: 8, 16, 32, 32 and 32 channels), so
 * tests exercise backbones without loading MobileNetV2. Random convolutions still separate colours and shapes; the
 * stride-16 and stride-32 stages (2×2 and 1×1) are what a backbone detector reads.
 */
export async function tinyBackboneModel(seed = 7): Promise<SerializedModel & { weights: Uint8Array }> {
  const input = tfl.input({ name: 'image', shape: [TINY_BACKBONE_SIZE, TINY_BACKBONE_SIZE, 3] });
  let x = input;
  const stages: [string, number][] = [
    ['stage_1', 8],
    ['stage_2', 16],
    ['stage_3', 32],
    ['stage_4', 32],
    ['stage_5', 32],
  ];
  stages.forEach(([name, filters], index) => {
    x = tfl.layers
      .conv2d({
        name,
        filters,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed: seed + index }),
      })
      .apply(x) as tfl.SymbolicTensor;
  });
  const model = tfl.model({ name: 'tiny_backbone', inputs: input, outputs: x });
  const serialized = await serializeModel(model, {
    format: 'diyml',
    version: 1,
    architecture: 'tiny-backbone',
    task: 'classification',
    labels: [],
    imageSize: { width: TINY_BACKBONE_SIZE, height: TINY_BACKBONE_SIZE },
    channels: 3,
    fit: 'resize',
    inputRange: [0, 1],
  });
  model.dispose();
  return serialized;
}

/** The registry entry of a tiny backbone whose weights come from `source`. */
export function tinyBackboneDescriptor(id: string, source: WeightSource): BackboneDescriptor {
  return {
    id,
    description: 'Tiny random-weight test backbone (32 px).',
    licence: 'MIT',
    inputSize: TINY_BACKBONE_SIZE,
    inputRange: [0, 1],
    featureLayers: [
      { name: 'stage_1', stride: 2, channels: 8 },
      { name: 'stage_2', stride: 4, channels: 16 },
      { name: 'stage_3', stride: 8, channels: 32 },
      { name: 'stage_4', stride: 16, channels: 32 },
      { name: 'stage_5', stride: 32, channels: 32 },
    ],
    embeddingLayer: 'stage_2',
    fineTuneStarts: ['stage_1'],
    source,
  };
}

/** A backbone classifier on the tiny backbone, trained on the cpu backend. */
export async function tinyBackboneClassifierConfig(epochs: number): Promise<Partial<TrainingConfig>> {
  const backbone = tinyBackboneDescriptor('tiny', { kind: 'model', model: await tinyBackboneModel() });
  return { architecture: 'backbone-classifier', backbone, epochs, seed: 5, backend: 'cpu' };
}
