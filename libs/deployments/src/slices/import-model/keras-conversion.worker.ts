import { zipSync } from 'fflate';
import { parentPort } from 'node:worker_threads';
// Not the keras index: this thread never loads the HDF5 library (see model-import.ts).
import { convertKerasModel } from '@diyml/ml';
import { KerasImportError } from '@diyml/ml';
import type { FromKerasConversionThread, ToKerasConversionThread } from './keras-conversion.protocol.js';

/**
 * Builds one Keras model on its own thread (building it and packing its weights are CPU work): maps its layers onto TensorFlow.js and packs the result as a model archive (model.json, weights.bin,
 * metadata.json with the labels and input range), which the import then checks like any other. Answers once.
 */
const port = parentPort!;
const send = (message: FromKerasConversionThread) => port.postMessage(message);
/** Fixed entry times, so the same Keras file always converts to the same bytes. */
const EPOCH = new Date('1980-01-01T00:00:00Z');

async function convert({ file, labels, inputRange }: ToKerasConversionThread): Promise<FromKerasConversionThread> {
  try {
    const model = await convertKerasModel(file, { labels, inputRange });
    const text = (value: string) =>
      [new TextEncoder().encode(value), { mtime: EPOCH }] as [Uint8Array, { mtime: Date }];
    const modelZip = zipSync({
      'model.json': text(model.modelJson),
      'weights.bin': [model.weights, { mtime: EPOCH }],
      'metadata.json': text(model.metadataJson ?? '{}'),
    });
    return { type: 'converted', modelZip };
  } catch (error) {
    if (error instanceof KerasImportError)
      return { type: 'refused', code: error.code, message: error.message, details: error.details };
    return {
      type: 'refused',
      code: 'KERAS_MODEL_INVALID',
      message: `The Keras model cannot be built: ${(error as Error).message ?? String(error)}.`,
    };
  }
}

port.once('message', (message: ToKerasConversionThread) => {
  void convert(message).then(send);
});
