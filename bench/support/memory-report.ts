/**
 * Preloaded into the api by a benchmark (`NODE_OPTIONS=--import <this file>`, Node strips the types): on each
 * SIGURG (ignored by default, and by none of Nest's shutdown hooks), the api's process.memoryUsage() (bytes) is written to MEMORY_REPORT_FILE as JSON, to tell the main
 * thread's V8 heap and the buffers it holds from the rest of the resident memory (native libraries, worker threads,
 * the allocator's arenas).
 */
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.MEMORY_REPORT_FILE;
if (file) {
  process.on('SIGURG', () => {
    // Renamed into place, so the reader never sees half a file.
    writeFileSync(`${file}.partial`, JSON.stringify(process.memoryUsage()));
    renameSync(`${file}.partial`, file);
  });
}
