import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Wall seconds of the longest test files in a full `npm test` (the lead's run of 2026-12-04 21:44-22:27 UTC, load
 * 15-20 on 2 cores, so about three times what they take on an idle machine; only their order counts), for a run
 * with no record of its own, as on a fresh clone: otherwise a long file could start late, with a worker idle at the
 * end while it finished. The slow tier (*.slow.e2e-spec.ts) is not in `npm test`.
 */
const SECONDS_IN_A_FULL_RUN: Record<string, number> = {
  'test/distributed-outage.e2e-spec.ts': 251,
  'test/distributed.e2e-spec.ts': 251,
  'test/abuse/upload-memory.e2e-spec.ts': 222,
  'test/abuse/stalled-upload.e2e-spec.ts': 151,
  'test/abuse/large-project-reads.e2e-spec.ts': 131,
  'test/backbones.e2e-spec.ts': 120,
  'libs/ml/src/training/backbone-training.spec.ts': 117,
  'libs/ml/src/detection/backbone-detector.spec.ts': 116,
  'test/console/model-operations.e2e-spec.ts': 106,
  'test/console/multilabel-journey.e2e-spec.ts': 92,
  'test/abuse/http-abuse.e2e-spec.ts': 88,
  'test/console/detection-journey.e2e-spec.ts': 87,
  'test/console/classification-labeling.e2e-spec.ts': 79,
  'test/deployment-crash.e2e-spec.ts': 79,
  'test/console/forms-and-layout.e2e-spec.ts': 76,
  'test/distributed-startup.e2e-spec.ts': 75,
  'libs/jobs/src/bullmq/bullmq-worker-loss.spec.ts': 70,
  'test/abuse/hollow-images-memory.e2e-spec.ts': 70,
  'test/keras-import.e2e-spec.ts': 66,
  'test/abuse/archive-abuse.e2e-spec.ts': 65,
  'test/distributed-quota.e2e-spec.ts': 64,
  'test/training.e2e-spec.ts': 63,
  'test/abuse/claim-takeover.e2e-spec.ts': 62,
  'test/custom-vision-sdk-ops.e2e-spec.ts': 60,
  'test/console/progress-and-suggestions.e2e-spec.ts': 57,
  'test/custom-vision.e2e-spec.ts': 56,
  'test/console/box-review.e2e-spec.ts': 54,
  'test/distributed-lost-jobs.e2e-spec.ts': 50,
  'libs/training/src/worker/training-thread.spec.ts': 48,
  'test/abuse/event-streams.e2e-spec.ts': 47,
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
