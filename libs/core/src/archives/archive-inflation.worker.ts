import { parentPort } from 'node:worker_threads';
import { DomainError } from '../domain/domain-error.js';
import { inflateArchive } from './archive-inflation.js';
import type { FromInflationThread, ToInflationThread } from './archive-inflation.protocol.js';

/**
 * Inflates archives off the api's event loop, one per message, answering each once; entry bytes are moved back, not
 * copied. Nothing outlives an archive here, so the pool that owns the thread sends it the next one.
 */
const port = parentPort!;

port.on('message', async ({ zip, request }: ToInflationThread) => {
  let answer: FromInflationThread;
  const transfer: ArrayBuffer[] = [];
  try {
    const archive = await inflateArchive(zip, request);
    for (const entry of archive.entries) {
      if (!entry.bytes) continue;
      // An entry that is a view into a larger buffer (Node's pool of small buffers) gets its own buffer to move: a
      // copy by Uint8Array's constructor, as a Buffer's slice() is a view of the same memory.
      const own =
        entry.bytes.byteOffset === 0 &&
        entry.bytes.byteLength === entry.bytes.buffer.byteLength &&
        !transfer.includes(entry.bytes.buffer as ArrayBuffer);
      if (!own) entry.bytes = new Uint8Array(entry.bytes);
      transfer.push(entry.bytes.buffer as ArrayBuffer);
    }
    answer = { type: 'inflated', archive };
  } catch (error) {
    answer =
      error instanceof DomainError
        ? { type: 'refused', kind: error.kind, code: error.code, message: error.message, details: error.details }
        : { type: 'failed', message: (error as Error).message ?? String(error) };
  }
  port.postMessage(answer, transfer);
});
