import { relative } from 'node:path';
import Sequencer from '@jest/test-sequencer';

/**
 * Wall seconds of the longest test files in a full run (BENCHMARKS.md, "`npm test` in five minutes"), for a run with
 * no record of its own: on a fresh clone Jest orders files by size, and the benchmark smoke test (a small file, the
 * longest by far) started two thirds into the run, with one worker idle at the end while it finished.
 */
const SECONDS_IN_A_FULL_RUN = {
  'test/benchmarks.e2e-spec.ts': 259,
  'test/distributed.e2e-spec.ts': 136,
  'libs/ml/src/detection/backbone-detector.spec.ts': 107,
  'libs/ml/src/training/backbone-training.spec.ts': 87,
  'test/backbones.e2e-spec.ts': 76,
  'test/console/detection-journey.e2e-spec.ts': 76,
  'test/abuse/http-abuse.e2e-spec.ts': 64,
  'test/test-run-cancel.e2e-spec.ts': 58,
  'test/console/model-operations.e2e-spec.ts': 56,
  'test/custom-vision-sdk-ops.e2e-spec.ts': 56,
  'test/training.e2e-spec.ts': 56,
  'test/real-photos.slow.e2e-spec.ts': 54,
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
