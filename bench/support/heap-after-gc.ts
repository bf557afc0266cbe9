/**
 * Preloaded into the api by a benchmark (`NODE_OPTIONS=--expose-gc --import <this file>`, Node strips the types): on
 * each SIGURG the api collects its garbage (when `--expose-gc` allows it), then writes process.memoryUsage() (bytes)
 * to HEAP_REPORT_FILE as JSON: the heap a cache or a leak keeps, without the garbage of the last requests.
 */
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.HEAP_REPORT_FILE;
if (file) {
  process.on('SIGURG', () => {
    (globalThis as { gc?: () => void }).gc?.();
    // Renamed into place, so the reader never sees half a file.
    writeFileSync(`${file}.partial`, JSON.stringify(process.memoryUsage()));
    renameSync(`${file}.partial`, file);
  });
}
