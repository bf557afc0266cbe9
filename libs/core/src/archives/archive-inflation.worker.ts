import { parentPort } from 'node:worker_threads';
import { ArchiveFormatError, ArchiveLimitError, inflateArchive } from './archive-inflation.js';
import type { FromInflationThread, ToInflationThread } from './archive-inflation.protocol.js';

/**
 * Inflates archives off the api's event loop, one per message, answering each once; entry bytes are moved back, not
 * copied. Nothing outlives an archive here, so the pool that owns the thread sends it the next one.
 */
const port = parentPort!;

port.on('message', ({ zip, request }: ToInflationThread) => {
  let answer: FromInflationThread;
  const transfer: ArrayBuffer[] = [];
  try {
    const archive = inflateArchive(zip, request);
    for (const entry of archive.entries) {
      if (!entry.bytes) continue;
      // An entry that is a view into a larger buffer (stored entries, shared chunks) gets its own buffer to move: a
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
    if (error instanceof ArchiveLimitError)
      answer = { type: 'limit', code: error.code, message: error.message, details: error.details };
    else if (error instanceof ArchiveFormatError) answer = { type: 'invalid', message: error.message };
    else answer = { type: 'failed', message: (error as Error).message ?? String(error) };
  }
  port.postMessage(answer, transfer);
});
