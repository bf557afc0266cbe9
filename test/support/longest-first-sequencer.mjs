import { relative } from 'node:path';
import Sequencer from '@jest/test-sequencer';

/**
 * Wall seconds of the longest test files in a full run (BENCHMARKS.md, "`npm test` on 2026-12-03", at a load of
 * 9-15), for a run with no record of its own: on a fresh clone Jest orders files by size, and the benchmark smoke test
 * (a small file, the longest by far) started two thirds into the run, with one worker idle at the end while it finished.
 */
const SECONDS_IN_A_FULL_RUN = {
  'test/benchmarks.e2e-spec.ts': 197,
  'test/abuse/upload-memory.e2e-spec.ts': 159,
  'test/distributed.e2e-spec.ts': 139,
  'test/console/labeling-slips.e2e-spec.ts': 73,
  'libs/training/src/worker/embedding-thread.spec.ts': 66,
  'test/postgres.e2e-spec.ts': 64,
  'test/backbones.e2e-spec.ts': 54,
  'libs/ml/src/detection/backbone-detector.spec.ts': 52,
  'test/images-list-pages.e2e-spec.ts': 52,
  'test/product.e2e-spec.ts': 51,
  'libs/jobs/src/bullmq/bullmq-worker-loss.spec.ts': 51,
  'test/training-bullmq.e2e-spec.ts': 51,
  'test/keras-import.e2e-spec.ts': 51,
  'test/suggestions-bullmq.e2e-spec.ts': 51,
};

/**
 * Longest first, so that no long file starts last: Jest's own order (files that failed last time first, then by the
 * duration Jest recorded on this machine), with the durations above standing in for files Jest has no record of;
 * files with neither come after, largest first.
 */
export default class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    const expectedMs = (test) =>
      this.time(test) ?? SECONDS_IN_A_FULL_RUN[relative(test.context.config.rootDir, test.path)] * 1000;
    const size = (test) => test.context.hasteFS.getSize(test.path) ?? 0;
    // As Jest's own sort does: the scheduler reads it to decide whether to run in band.
    for (const test of tests) test.duration = this.time(test);
    return [...tests].sort(
      (a, b) =>
        Number(this.hasFailed(b)) - Number(this.hasFailed(a)) ||
        (expectedMs(b) || -1) - (expectedMs(a) || -1) ||
        size(b) - size(a),
    );
  }
}
