import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

interface BundledModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/**
 * Loads the Keras MobileNetV2 (224×224 RGB in [0, 1], MIT) that the npm package nsfwjs@4 bundles from node_modules: model.min.js exports model.json, each shard's .min.js
 * its weight bytes as base64 (UMD modules, loaded with require). Its sibling mobilenet_v2_mid
 * is a tfjs graph model, not a LayersModel. For benchmarks and tests of the ONNX path; the
 * backbone registry is what the product uses.
 */
export async function loadNsfwjsMobileNetV2(): Promise<tfl.LayersModel> {
  const require = createRequire(import.meta.url);
  // The package's exports map hides dist/models: locate it beside the CommonJS entry point (dist/cjs/index.js).
  const directory = join(dirname(require.resolve('nsfwjs')), '..', 'models', 'mobilenet_v2');
  const modelJson = require(`${directory}/model.min.js`) as BundledModelJson;
  const shards = modelJson.weightsManifest
    .flatMap((group) => group.paths)
    .map((path) => Buffer.from(require(`${directory}/${path}.min.js`) as string, 'base64'));
  const weights = Buffer.concat(shards);
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    }),
  );
}
