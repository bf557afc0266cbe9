import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Wall seconds of the longest test files in a full run (BENCHMARKS.md), for a run with no record of its own: on a
 * fresh clone the benchmark smoke test (a small file, the longest by far) would otherwise start late, with a worker
 * idle at the end while it finished.
 */
const SECONDS_IN_A_FULL_RUN: Record<string, number> = {
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
