import { Zip, ZipDeflate } from 'fflate';
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
// Not the keras index: this thread never loads the HDF5 library (see model-import.ts).
import { convertKerasModel } from '@diyml/ml';
import { KerasImportError } from '@diyml/ml';
import type { FromKerasConversionThread, ToKerasConversionThread } from './keras-conversion.protocol.js';

/**
 * Builds one Keras model on its own thread (building it and packing its weights are CPU work): maps its layers onto
 * TensorFlow.js and writes the result as a model archive (model.json, weights.bin, metadata.json with the labels and
 * input range) to the file it is given, which the import then checks like any other. Answers once.
 */
const port = parentPort!;
const send = (message: FromKerasConversionThread) => port.postMessage(message);
/** Fixed entry times, so the same Keras file always converts to the same bytes. */
const EPOCH = new Date('1980-01-01T00:00:00Z');
/** Weights are compressed and written this much at a time, so no second whole copy of them is held. */
const SLICE_BYTES = 1024 * 1024;

/** Writes a zip of `entries` to a new file at `path`, compressing and writing each a slice at a time. */
function writeZip(path: string, entries: Record<string, Uint8Array>): void {
  const fd = openSync(path, 'wx');
  try {
    const zip = new Zip((error, chunk) => {
      if (error) throw error;
      for (let written = 0; written < chunk.byteLength;)
        written += writeSync(fd, chunk, written, chunk.byteLength - written);
    });
    for (const [name, bytes] of Object.entries(entries)) {
      const entry = new ZipDeflate(name, { level: 6 });
      entry.mtime = EPOCH;
      zip.add(entry);
      if (bytes.byteLength === 0) entry.push(bytes, true);
      for (let offset = 0; offset < bytes.byteLength; offset += SLICE_BYTES) {
        const end = Math.min(offset + SLICE_BYTES, bytes.byteLength);
        entry.push(bytes.subarray(offset, end), end === bytes.byteLength);
      }
    }
    zip.end();
  } finally {
    closeSync(fd);
  }
}

async function convert({
  file,
  labels,
  inputRange,
  zipPath,
}: ToKerasConversionThread): Promise<FromKerasConversionThread> {
  let model: Awaited<ReturnType<typeof convertKerasModel>>;
  try {
    model = await convertKerasModel(file, { labels, inputRange });
  } catch (error) {
    if (error instanceof KerasImportError)
      return { type: 'refused', code: error.code, message: error.message, details: error.details };
    return {
      type: 'refused',
      code: 'KERAS_MODEL_INVALID',
      message: `The Keras model cannot be built: ${(error as Error).message ?? String(error)}.`,
    };
  }
  // A failure to write is the api's own (the thread fails), not the model's.
  const text = (value: string) => new TextEncoder().encode(value);
  writeZip(zipPath, {
    'model.json': text(model.modelJson),
    'weights.bin': model.weights,
    'metadata.json': text(model.metadataJson ?? '{}'),
  });
  return { type: 'converted' };
}

port.once('message', (message: ToKerasConversionThread) => {
  void convert(message).then(send);
});
