import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const require = createRequire(import.meta.url);

interface KerasLayer {
  name: string;
  class_name: string;
  config: { batch_input_shape?: (number | null)[] };
}

interface PackagedModel {
  modelTopology: { model_config: { config: { layers: KerasLayer[]; output_layers: unknown[] } } };
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** The ImageNet MobileNetV2 (alpha 1.0, uint8-quantised) that nsfwjs ships inside its npm package, input in [0, 1]. */
function packagedModel(): { model: PackagedModel; weights: ArrayBuffer } {
  const models = join(dirname(require.resolve('nsfwjs')), '..', 'models', 'mobilenet_v2');
  const model = require(join(models, 'model.min.js')) as PackagedModel;
  const bytes = Buffer.from(require(join(models, 'group1-shard1of1.min.js')) as string, 'base64');
  return { model, weights: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
}

/**
 * MobileNetV2 cut at `outputLayers`, for a square input of `side` pixels: the layers after the last output are left
 * out (with the classifier on top, which only fits 224 px), so any side divisible by 32 works.
 */
export async function loadMobileNetV2Features(side: number, outputLayers: readonly string[]): Promise<tfl.LayersModel> {
  const { model, weights } = packagedModel();
  const topology = structuredClone(model.modelTopology);
  const layers = topology.model_config.config.layers;
  const last = Math.max(...outputLayers.map((name) => layers.findIndex((layer) => layer.name === name)));
  const missing = outputLayers.filter((name) => !layers.some((layer) => layer.name === name));
  if (missing.length > 0) throw new RangeError(`MobileNetV2 has no layer ${missing.join(', ')}`);
  topology.model_config.config.layers = layers.slice(0, last + 1);
  topology.model_config.config.layers[0].config.batch_input_shape = [null, side, side, 3];
  topology.model_config.config.output_layers = [[layers[last].name, 0, 0]];
  const full = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: topology, weightSpecs: model.weightsManifest.flatMap((group) => group.weights), weightData: weights }),
    { strict: false },
  );
  return tfl.model({ name: 'mobilenet_v2_features', inputs: full.inputs, outputs: outputLayers.map((name) => full.getLayer(name).output as tfl.SymbolicTensor) });
}
