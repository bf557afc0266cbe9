import { stat } from 'node:fs/promises';
import { siblingModule, startWorkerThread } from '@diyml/core/pure';
import type { KerasModelFile, KerasReadLimits } from './keras-file.js';
import { KerasImportError } from './keras-import.error.js';
import type { FromKerasReadThread, KerasReadJob, ToKerasReadThread } from './keras-read.protocol.js';

export interface KerasThreadLimits extends KerasReadLimits {
  /** The HDF5 file (a Keras 2 file, or a Keras 3 zip's model.weights.h5). */
  maxFileBytes: number;
  /** Reading, from the moment the thread has the HDF5 library loaded. */
  timeoutMs: number;
}

/**
 * Reads a Keras file on a worker thread of its own, from where it lies on disk (only the model's arrays are read
 * from it, and they are moved back, not copied), so a large or hostile HDF5 file (arrays that decompress to
 * gigabytes, structures that take long to walk) never holds the event loop: refused past `maxFileBytes` or
 * `maxWeightBytes` (KERAS_FILE_TOO_LARGE), stopped after `timeoutMs` (KERAS_READ_TIMEOUT), the thread and its
 * WebAssembly memory dropped in every case.
 */
export async function readKerasOnThread(job: KerasReadJob, limits: KerasThreadLimits): Promise<KerasModelFile> {
  const hdf5Path = job.kind === 'keras-h5' ? job.path : job.weightsPath;
  if ((await stat(hdf5Path)).size > limits.maxFileBytes) {
    throw new KerasImportError(
      'KERAS_FILE_TOO_LARGE',
      `The Keras file is larger than ${limits.maxFileBytes} bytes: import a smaller model.`,
      {
        maxFileBytes: limits.maxFileBytes,
      },
    );
  }
  const worker = startWorkerThread(siblingModule(import.meta.url, 'keras-read.worker'), {}, ['h5wasm/node']);
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await new Promise<FromKerasReadThread>((resolve, reject) => {
      worker.on('message', (message: FromKerasReadThread) => {
        if (message.type !== 'ready') return resolve(message);
        const request: ToKerasReadThread = { ...job, limits: { maxWeightBytes: limits.maxWeightBytes } };
        worker.postMessage(request);
        timer = setTimeout(
          () =>
            reject(
              new KerasImportError(
                'KERAS_READ_TIMEOUT',
                `Reading the Keras file took over ${limits.timeoutMs} ms: it is not a model this api can import.`,
                {
                  timeoutMs: limits.timeoutMs,
                },
              ),
            ),
          limits.timeoutMs,
        );
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the Keras reading thread stopped (exit code ${code})`)));
    });
    if (answer.type === 'refused') throw new KerasImportError(answer.code, answer.message, answer.details);
    if (answer.type !== 'read') throw new Error(`the Keras reading thread answered ${answer.type}`);
    return answer.file;
  } finally {
    clearTimeout(timer);
    void worker.terminate();
  }
}
