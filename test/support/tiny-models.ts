import * as tfl from '@tensorflow/tfjs-layers';
import { strToU8, zipSync } from 'fflate';
import { getArchitecture, type ModelMetadata, selectBackend, serializeModel } from '@diyml/ml';

export interface TinyModelFiles {
  modelJson: Record<string, unknown>;
  weights: Uint8Array;
}

/** An untrained 8×8 RGB classifier (flatten + softmax) in diyml's export layout, small enough to build per test. */
export async function tinyClassifier(labels: string[], metadata: Partial<ModelMetadata> = {}): Promise<TinyModelFiles> {
  await selectBackend();
  const model = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [8, 8, 3] }),
      tfl.layers.dense({ units: labels.length, activation: 'softmax' }),
    ],
  });
  const serialized = await serializeModel(model, {
    format: 'diyml',
    version: 1,
    architecture: 'small-cnn',
    task: 'classification',
    labels,
    imageSize: { width: 8, height: 8 },
    channels: 3,
    fit: 'resize',
    inputRange: [0, 1],
    ...metadata,
  });
  model.dispose();
  return { modelJson: JSON.parse(serialized.modelJson) as Record<string, unknown>, weights: serialized.weights };
}

/** An untrained 32×32 tiny-detector in diyml's export layout: it finds boxes, of no meaning, in any image. */
export async function tinyDetector(labels: string[]): Promise<TinyModelFiles> {
  await selectBackend();
  const built = await getArchitecture('tiny-detector', 'detection').build({
    imageSize: { width: 32, height: 32 },
    channels: 3,
    labelCount: labels.length,
    seed: 4,
  });
  const serialized = await serializeModel(built.model, {
    format: 'diyml',
    version: 1,
    architecture: 'tiny-detector',
    task: 'detection',
    labels,
    imageSize: built.imageSize,
    channels: 3,
    fit: 'letterbox',
    inputRange: [0, 1],
  });
  built.model.dispose();
  return { modelJson: JSON.parse(serialized.modelJson) as Record<string, unknown>, weights: serialized.weights };
}

/** The model as a zip, with whatever model.json and weights it is given. */
export function modelZip(files: TinyModelFiles): Buffer {
  return Buffer.from(zipSync({ 'model.json': strToU8(JSON.stringify(files.modelJson)), 'weights.bin': files.weights }));
}
