import { parentPort } from 'node:worker_threads';
import { loadH5wasm, readKerasH5, readKerasZip, weightBuffers } from './keras-file.js';
import { KerasImportError } from './keras-import.error.js';
import type { FromKerasReadThread, ToKerasReadThread } from './keras-read.protocol.js';

/**
 * Reads one Keras file on its own thread (see readKerasOnThread): says when the HDF5 library is loaded, then
 * reads the file it is sent and answers once, its weight arrays moved to the caller rather than copied.
 */
const port = parentPort!;

async function read(job: ToKerasReadThread): Promise<FromKerasReadThread> {
  try {
    const file =
      job.kind === 'keras-h5' ? await readKerasH5(job.path, job.limits) : await readKerasZip(job, job.limits);
    return { type: 'read', file };
  } catch (error) {
    if (error instanceof KerasImportError)
      return { type: 'refused', code: error.code, message: error.message, details: error.details };
    return {
      type: 'refused',
      code: 'KERAS_NOT_A_MODEL',
      message: `The file cannot be read as a Keras model: ${(error as Error).message ?? String(error)}.`,
    };
  }
}

port.once('message', (job: ToKerasReadThread) => {
  void read(job).then((answer) => port.postMessage(answer, answer.type === 'read' ? weightBuffers(answer.file) : []));
});
void loadH5wasm().then(() => port.postMessage({ type: 'ready' } satisfies FromKerasReadThread));
