/**
 * Preloaded into the api by a benchmark (`NODE_OPTIONS=--import <this file>`, Node strips the types): the event
 * loop's delay, i.e. how long a ready request waited behind synchronous work. On each SIGWINCH the delays since the
 * previous one are written to EVENT_LOOP_DELAY_FILE as JSON (milliseconds) and the histogram starts over.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopDelay {
  p50: number;
  p99: number;
  max: number;
}

const file = process.env.EVENT_LOOP_DELAY_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const ms = (nanoseconds: number) => nanoseconds / 1e6;
  process.on('SIGWINCH', () => {
    const delay: EventLoopDelay = {
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
    };
    // Renamed into place, so the reader never sees half a file.
    writeFileSync(`${file}.partial`, JSON.stringify(delay));
    renameSync(`${file}.partial`, file);
    histogram.reset();
  });
}
