import * as tfl from '@tensorflow/tfjs-layers';
import type { Backbone } from './backbone.js';

/** Fine-tuned backbone layers learn at this fraction of the head's learning rate: pretrained weights move gently. */
export const FINE_TUNE_LEARNING_RATE_FACTOR = 0.1;

export interface BackboneTail {
  /** The layer whose activations the tail takes (cached once per image and view). */
  start: string;
  /** From the start layer's activations to the embedding layer's, on the backbone's own layers (shared weights). */
  model: tfl.LayersModel;
  /** The tail's layers whose weights fine-tuning trains (batch normalisations keep their pretrained statistics). */
  trainedLayers: tfl.layers.Layer[];
}

/** The last `blocks` blocks of the backbone, those fine-tuning trains; RangeError when it has fewer such blocks. */
export function fineTuneStart(backbone: Backbone, blocks: number): string {
  const starts = backbone.descriptor.fineTuneStarts ?? [];
  if (blocks < 1 || blocks > starts.length) {
    throw new RangeError(
      `backbone '${backbone.descriptor.id}' can fine-tune ${starts.length ? `1 to ${starts.length} blocks` : 'no block'}, not ${blocks}`,
    );
  }
  return starts[blocks - 1];
}

/**
 * The backbone from `start` to `embeddingLayer`, rebuilt on a new input so that it trains on cached activations of
 * `start`: each layer between them is applied again (same layer, same weights), so training it changes the
 * backbone inside the saved model too. Call after every other use of the backbone's layer outputs: applying a
 * layer again gives it a second inbound node.
 */
export function backboneTail(backbone: Backbone, start: string, embeddingLayer: string): BackboneTail {
  const layers = backbone.model.layers;
  const from = layers.findIndex((layer) => layer.name === start);
  const to = layers.findIndex((layer) => layer.name === embeddingLayer);
  if (from < 0 || to <= from)
    throw new RangeError(`backbone '${backbone.descriptor.id}' has no layer '${start}' before '${embeddingLayer}'`);
  const startOutput = layers[from].inboundNodes[0].outputTensors[0];
  const input = tfl.input({ name: `${start}_activations`, shape: startOutput.shape.slice(1) as number[] });
  const rebuilt = new Map<number, tfl.SymbolicTensor>([[startOutput.id, input]]);
  const trainedLayers: tfl.layers.Layer[] = [];
  for (const layer of layers.slice(from + 1, to + 1)) {
    const node = layer.inboundNodes[0];
    const inputs = node.inputTensors.map((tensor) => rebuilt.get(tensor.id));
    if (inputs.every((tensor) => tensor === undefined)) continue;
    if (inputs.some((tensor) => tensor === undefined)) {
      throw new RangeError(
        `layer '${layer.name}' of backbone '${backbone.descriptor.id}' also reads activations from before '${start}': '${start}' cannot start a fine-tuned tail`,
      );
    }
    const output = layer.apply(
      inputs.length === 1 ? inputs[0]! : (inputs as tfl.SymbolicTensor[]),
    ) as tfl.SymbolicTensor;
    rebuilt.set(node.outputTensors[0].id, output);
    if (layer.weights.length > 0 && layer.getClassName() !== 'BatchNormalization') trainedLayers.push(layer);
  }
  const output = rebuilt.get(layers[to].inboundNodes[0].outputTensors[0].id);
  if (!output)
    throw new RangeError(`'${embeddingLayer}' of backbone '${backbone.descriptor.id}' does not follow from '${start}'`);
  for (const layer of trainedLayers) layer.trainable = true;
  return { start, model: tfl.model({ name: 'fine_tuned_tail', inputs: input, outputs: output }), trainedLayers };
}
