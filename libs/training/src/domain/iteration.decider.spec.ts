import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { defaultTrainingConfig } from '@diyml/projects';
import { iterationDecider, lostAttempts } from './iteration.decider.js';
import type { IterationEvent, IterationSpec } from './iteration.events.js';

const now = new Date('2026-05-01T12:00:00.000Z');
const metadata = { userId: 'u1', correlationId: 'c1', now };
const ids = { projectId: 'p1', iterationId: 'i1' };
const spec: IterationSpec = {
  task: 'classification',
  labels: [{ id: 'l1', name: 'cat' }],
  manifestSha256: 'abc',
  imageCount: 10,
  trainingConfig: { ...defaultTrainingConfig('classification'), epochs: 2 },
  seed: 7,
  architecture: 'small-cnn',
  reproducedFrom: null,
};
const queued: IterationEvent = { type: 'IterationQueued', v: 1, data: { ...ids, number: 1, ...spec, queuedAt: 'q' } };
const started: IterationEvent = {
  type: 'IterationStarted',
  v: 1,
  data: { ...ids, attempt: 1, backend: 'wasm', startedAt: 's' },
};
const stats = {
  epoch: 1,
  epochs: 2,
  loss: 0.5,
  accuracy: 0.8,
  valLoss: 0.6,
  valAccuracy: 0.7,
  durationMs: 10,
  imagesPerSecond: 100,
};
const outcome = {
  modelSha256: 'm',
  modelBytes: 100,
  evaluationSha256: 'e',
  metrics: {
    accuracy: 0.9,
    precision: 0.9,
    recall: 0.9,
    f1: 0.9,
    perLabel: [{ label: 'cat', precision: 0.9, recall: 0.9, f1: 0.9, support: 10 }],
    confusionMatrix: { labels: ['cat'], matrix: [[9]], noPrediction: [1] },
  },
  backend: 'wasm',
  bestEpoch: 2,
  stoppedEarly: false,
  trainCount: 8,
  validationCount: 2,
  trainingDurationMs: 20,
};
const spec_ = deciderSpecification(iterationDecider);

describe('iteration decider', () => {
  it('queues a new iteration with its frozen spec', () => {
    spec_
      .given([])
      .when({ type: 'QueueIteration', ...ids, number: 1, spec, metadata })
      .then([{ ...queued, data: { ...queued.data, queuedAt: now.toISOString() } } as IterationEvent]);
  });

  it('refuses to queue the same iteration twice', () => {
    spec_
      .given([queued])
      .when({ type: 'QueueIteration', ...ids, number: 2, spec, metadata })
      .thenThrows('ITERATION_ALREADY_EXISTS');
  });

  it('starts a queued iteration, and starts it again for a retry attempt', () => {
    spec_
      .given([queued])
      .when({ type: 'StartIteration', attempt: 1, backend: 'wasm', metadata })
      .then([
        { type: 'IterationStarted', v: 1, data: { ...ids, attempt: 1, backend: 'wasm', startedAt: now.toISOString() } },
      ]);
    spec_
      .given([queued, started])
      .when({ type: 'StartIteration', attempt: 2, backend: 'wasm', metadata })
      .then([
        { type: 'IterationStarted', v: 1, data: { ...ids, attempt: 2, backend: 'wasm', startedAt: now.toISOString() } },
      ]);
  });

  it('treats a repeated start of the same attempt as done', () => {
    spec_
      .given([queued, started])
      .when({ type: 'StartIteration', attempt: 1, backend: 'wasm', metadata })
      .thenNothingHappens();
  });

  it('records epochs of the running attempt only', () => {
    spec_
      .given([queued, started])
      .when({ type: 'CompleteEpoch', attempt: 1, stats, metadata })
      .then([{ type: 'EpochCompleted', v: 1, data: { ...ids, ...stats, attempt: 1 } }]);
    spec_
      .given([queued])
      .when({ type: 'CompleteEpoch', attempt: 1, stats, metadata })
      .thenThrows('ITERATION_NOT_RUNNING');
    spec_
      .given([queued, started])
      .when({ type: 'CompleteEpoch', attempt: 2, stats, metadata })
      .thenThrows('ITERATION_NOT_RUNNING');
  });

  it('completes a running iteration and refuses to complete a cancelled one', () => {
    spec_
      .given([queued, started])
      .when({ type: 'CompleteIteration', outcome, metadata })
      .then([{ type: 'IterationCompleted', v: 1, data: { ...ids, ...outcome, completedAt: now.toISOString() } }]);
    const cancelled: IterationEvent = { type: 'IterationCancelled', v: 1, data: { ...ids, cancelledAt: 'x' } };
    spec_
      .given([queued, started, cancelled])
      .when({ type: 'CompleteIteration', outcome, metadata })
      .thenThrows('ITERATION_NOT_RUNNING');
  });

  it('fails an unfinished iteration, and ignores a failure after it finished', () => {
    spec_
      .given([queued, started])
      .when({ type: 'FailIteration', code: 'OOM', reason: 'out of memory', metadata })
      .then([
        {
          type: 'IterationFailed',
          v: 1,
          data: { ...ids, code: 'OOM', reason: 'out of memory', failedAt: now.toISOString() },
        },
      ]);
    const completed: IterationEvent = {
      type: 'IterationCompleted',
      v: 1,
      data: { ...ids, ...outcome, completedAt: 'c' },
    };
    spec_
      .given([queued, started, completed])
      .when({ type: 'FailIteration', code: 'X', reason: 'late', metadata })
      .thenNothingHappens();
  });

  it('cancels while queued or running, once; refuses after completion', () => {
    const cancelled = {
      type: 'IterationCancelled',
      v: 1,
      data: { ...ids, cancelledAt: now.toISOString() },
    } as IterationEvent;
    spec_.given([queued]).when({ type: 'CancelIteration', metadata }).then([cancelled]);
    spec_.given([queued, started]).when({ type: 'CancelIteration', metadata }).then([cancelled]);
    spec_.given([queued, cancelled]).when({ type: 'CancelIteration', metadata }).thenNothingHappens();
    const completed: IterationEvent = {
      type: 'IterationCompleted',
      v: 1,
      data: { ...ids, ...outcome, completedAt: 'c' },
    };
    spec_
      .given([queued, started, completed])
      .when({ type: 'CancelIteration', metadata })
      .thenThrows('ITERATION_FINISHED');
  });

  it('refuses commands for an iteration that does not exist', () => {
    spec_.given([]).when({ type: 'CancelIteration', metadata }).thenThrows('ITERATION_NOT_FOUND');
  });

  it('records an imported model as a completed iteration, once', () => {
    const model = {
      task: 'classification' as const,
      labels: [{ id: 'l1', name: 'cat' }],
      architecture: 'imported',
      format: 'teachable-machine' as const,
      manifestSha256: 'empty',
      modelSha256: 'm',
      modelBytes: 100,
    };
    const imported = {
      type: 'ModelImported',
      v: 1,
      data: { ...ids, number: 3, ...model, importedAt: now.toISOString() },
    } as IterationEvent;
    spec_
      .given([])
      .when({ type: 'ImportModel', ...ids, number: 3, model, metadata })
      .then([imported]);
    spec_
      .given([imported])
      .when({ type: 'ImportModel', ...ids, number: 4, model, metadata })
      .thenThrows('ITERATION_ALREADY_EXISTS');
    spec_.given([imported]).when({ type: 'CancelIteration', metadata }).thenThrows('ITERATION_FINISHED');
    spec_
      .given([imported])
      .when({ type: 'StartIteration', attempt: 1, backend: 'wasm', metadata })
      .thenThrows('ITERATION_FINISHED');
  });

  describe('rename', () => {
    const completed: IterationEvent = {
      type: 'IterationCompleted',
      v: 1,
      data: { ...ids, ...outcome, completedAt: 'c' },
    };

    it('renames to a trimmed name, and renaming to the same name changes nothing', () => {
      const renamed: IterationEvent = { type: 'IterationRenamed', v: 1, data: { ...ids, name: 'Baseline' } };
      spec_
        .given([queued])
        .when({ type: 'RenameIteration', name: '  Baseline ', otherNames: ['Iteration 2'], metadata })
        .then([renamed]);
      spec_
        .given([queued, renamed])
        .when({ type: 'RenameIteration', name: 'Baseline', otherNames: [], metadata })
        .thenNothingHappens();
      spec_
        .given([queued])
        .when({ type: 'RenameIteration', name: 'Iteration 1', otherNames: [], metadata })
        .thenNothingHappens();
    });

    it('refuses an empty, an overlong or a taken name', () => {
      spec_
        .given([queued, started, completed])
        .when({ type: 'RenameIteration', name: '   ', otherNames: [], metadata })
        .thenThrows('ITERATION_NAME_INVALID');
      spec_
        .given([queued])
        .when({ type: 'RenameIteration', name: 'x'.repeat(101), otherNames: [], metadata })
        .thenThrows('ITERATION_NAME_INVALID');
      spec_
        .given([queued])
        .when({ type: 'RenameIteration', name: 'Iteration 2', otherNames: ['Iteration 2'], metadata })
        .thenThrows('ITERATION_NAME_TAKEN');
    });
  });

  describe('delete', () => {
    const completed: IterationEvent = {
      type: 'IterationCompleted',
      v: 1,
      data: { ...ids, ...outcome, completedAt: 'c' },
    };
    const deleted: IterationEvent = { type: 'IterationDeleted', v: 1, data: { ...ids, deletedAt: now.toISOString() } };

    it('deletes a finished iteration that is not deployed, once', () => {
      spec_
        .given([queued, started, completed])
        .when({ type: 'DeleteIteration', activeDeployments: [], metadata })
        .then([deleted]);
      const failed: IterationEvent = {
        type: 'IterationFailed',
        v: 1,
        data: { ...ids, code: 'X', reason: 'x', failedAt: 'f' },
      };
      spec_
        .given([queued, started, failed])
        .when({ type: 'DeleteIteration', activeDeployments: [], metadata })
        .then([deleted]);
      spec_
        .given([queued, started, completed, deleted])
        .when({ type: 'DeleteIteration', activeDeployments: [], metadata })
        .thenNothingHappens();
    });

    it('refuses to delete a deployed iteration or one still training', () => {
      spec_
        .given([queued, started, completed])
        .when({ type: 'DeleteIteration', activeDeployments: ['prod'], metadata })
        .thenThrows('ITERATION_DEPLOYED');
      spec_
        .given([queued])
        .when({ type: 'DeleteIteration', activeDeployments: [], metadata })
        .thenThrows('ITERATION_TRAINING');
      spec_
        .given([queued, started])
        .when({ type: 'DeleteIteration', activeDeployments: [], metadata })
        .thenThrows('ITERATION_TRAINING');
    });

    it('treats a deleted iteration as gone for every other command', () => {
      spec_
        .given([queued, started, completed, deleted])
        .when({ type: 'RenameIteration', name: 'again', otherNames: [], metadata })
        .thenThrows('ITERATION_NOT_FOUND');
      spec_
        .given([queued, started, completed, deleted])
        .when({ type: 'CancelIteration', metadata })
        .thenThrows('ITERATION_NOT_FOUND');
    });
  });

  describe('hand-back (a stopping worker gives the running attempt back to the queue)', () => {
    const startedAttempt = (attempt: number): IterationEvent => ({
      type: 'IterationStarted',
      v: 1,
      data: { ...ids, attempt, backend: 'wasm', startedAt: 's' },
    });
    const handedBack = (attempt: number): IterationEvent => ({
      type: 'IterationHandedBack',
      v: 1,
      data: { ...ids, attempt, handedBackAt: 'h' },
    });
    const stateAfter = (events: IterationEvent[]) =>
      events.reduce(iterationDecider.evolve, iterationDecider.initialState);

    it('records the hand-back of the running attempt, once', () => {
      spec_
        .given([queued, started])
        .when({ type: 'HandBackIteration', attempt: 1, metadata })
        .then([{ type: 'IterationHandedBack', v: 1, data: { ...ids, attempt: 1, handedBackAt: now.toISOString() } }]);
      spec_
        .given([queued, started, handedBack(1)])
        .when({ type: 'HandBackIteration', attempt: 1, metadata })
        .thenNothingHappens();
    });

    it('records nothing for an attempt that never started or whose run ended', () => {
      spec_.given([queued]).when({ type: 'HandBackIteration', attempt: 1, metadata }).thenNothingHappens();
      spec_.given([queued, started]).when({ type: 'HandBackIteration', attempt: 2, metadata }).thenNothingHappens();
      const cancelled: IterationEvent = { type: 'IterationCancelled', v: 1, data: { ...ids, cancelledAt: 'x' } };
      spec_
        .given([queued, started, cancelled])
        .when({ type: 'HandBackIteration', attempt: 1, metadata })
        .thenNothingHappens();
    });

    it("refuses the handed-back attempt's late epochs and outcome, and takes the next attempt's", () => {
      spec_
        .given([queued, started, handedBack(1)])
        .when({ type: 'CompleteEpoch', attempt: 1, stats, metadata })
        .thenThrows('ITERATION_NOT_RUNNING');
      spec_
        .given([queued, started, handedBack(1)])
        .when({ type: 'CompleteIteration', outcome, metadata })
        .thenThrows('ITERATION_NOT_RUNNING');
      spec_
        .given([queued, started, handedBack(1), startedAttempt(2)])
        .when({ type: 'CompleteEpoch', attempt: 2, stats, metadata })
        .then([{ type: 'EpochCompleted', v: 1, data: { ...ids, ...stats, attempt: 2 } }]);
    });

    it('counts lost attempts only: handed-back ones do not count', () => {
      expect(lostAttempts(stateAfter([queued]))).toBe(0);
      // The running attempt ended when the job runs again: lost, unless it was handed back.
      expect(lostAttempts(stateAfter([queued, started]))).toBe(1);
      expect(lostAttempts(stateAfter([queued, started, handedBack(1)]))).toBe(0);
      const twoHandedBackThenLost = [
        queued,
        started,
        handedBack(1),
        startedAttempt(2),
        handedBack(2),
        startedAttempt(3),
      ];
      expect(lostAttempts(stateAfter(twoHandedBackThenLost))).toBe(1);
      const lostHandedBackLost = [queued, started, startedAttempt(2), handedBack(2), startedAttempt(3)];
      expect(lostAttempts(stateAfter(lostHandedBackLost))).toBe(2);
      expect(lostAttempts(stateAfter([queued, started, startedAttempt(2), startedAttempt(3)]))).toBe(3);
    });
  });
});
