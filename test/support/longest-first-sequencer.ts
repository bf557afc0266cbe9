import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Wall seconds of the longest test files in a full run (BENCHMARKS.md, `npm test` on Vitest on 2026-12-04), for a run
 * with no record of its own: on a fresh clone the benchmark smoke test (a small file, the longest by far) would
 * otherwise start late, with a worker idle at the end while it finished.
 */
const SECONDS_IN_A_FULL_RUN: Record<string, number> = {
  'test/benchmarks.e2e-spec.ts': 185,
  'test/distributed.e2e-spec.ts': 110,
  'test/abuse/upload-memory.e2e-spec.ts': 67,
  'test/distributed-outage.e2e-spec.ts': 36,
  'test/console/model-operations.e2e-spec.ts': 34,
  'test/abuse/http-abuse.e2e-spec.ts': 31,
  'test/console/forms-and-layout.e2e-spec.ts': 30,
  'test/console/multilabel-journey.e2e-spec.ts': 30,
  'test/abuse/large-project-reads.e2e-spec.ts': 27,
  'test/console/detection-journey.e2e-spec.ts': 27,
  'test/abuse/claim-takeover.e2e-spec.ts': 23,
  'test/distributed-startup.e2e-spec.ts': 22,
  'test/console/classification-labeling.e2e-spec.ts': 21,
  'test/console/box-review.e2e-spec.ts': 20,
  'test/console/history.e2e-spec.ts': 20,
  'test/console/progress-and-suggestions.e2e-spec.ts': 18,
};

/**
 * Longest first, so that no long file starts last: files that failed last time first, then by the duration Vitest
 * recorded on this machine, with the durations above standing in for files Vitest has no record of; files with
 * neither come after, largest first.
 */
export class LongestFirstSequencer extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const recorded = (spec: TestSpecification) => this.ctx.cache.getTestSpecificationResult(spec);
    const expectedMs = (spec: TestSpecification) =>
      recorded(spec)?.duration ?? (SECONDS_IN_A_FULL_RUN[relative(root, spec.moduleId)] ?? 0) * 1000;
    const failed = (spec: TestSpecification) => Number(recorded(spec)?.failed ?? false);
    const size = (spec: TestSpecification) => statSync(spec.moduleId).size;
    return Promise.resolve(
      [...files].sort(
        (a, b) => failed(b) - failed(a) || (expectedMs(b) || -1) - (expectedMs(a) || -1) || size(b) - size(a),
      ),
    );
  }
}
