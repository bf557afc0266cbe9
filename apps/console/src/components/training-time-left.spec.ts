import { describe, expect, it } from 'vitest';
import { trainingTimeLeft } from './training-time-left';

/**
 * Two runs of the default detector (backbone-detector, 128 px, 10 epochs of 12 steps) on Custom Vision's detection
 * quickstart (40 photos), recorded from the progress stream on a busy 2-core machine: each epoch's duration, and the
 * 6th step of some epochs with the time since its epoch started and the time the run then really had left.
 */
// Its epochs went from 4 s to 6-12 s as the machine got busier: no pace measured before could tell.
const SLOWING_DOWN = {
  epochDurationsMs: [4032, 3899, 7708, 6807, 8113, 12328, 8852, 6274, 7080, 7814],
  sixthSteps: { 1: { elapsedMs: 2213, leftMs: 75_661 }, 3: { elapsedMs: 3520, leftMs: 66_421 } },
};
const WARM_UP = {
  // The first step of this run took 3.3 s, the first steps of later epochs 0.3-0.6 s.
  epochDurationsMs: [11_403, 5588, 8896, 7911, 3436, 8304, 7995, 5462, 4792, 4572],
  sixthSteps: { 1: { elapsedMs: 8577, leftMs: 61_992 }, 3: { elapsedMs: 4563, leftMs: 49_016 } },
};

function leftAtSixthStep(run: typeof SLOWING_DOWN, epoch: 1 | 3): number | null {
  return trainingTimeLeft({
    epochs: 10,
    epochDurationsMs: run.epochDurationsMs.slice(0, epoch - 1),
    batch: { epoch, batch: 6, batches: 12, elapsedMs: run.sixthSteps[epoch].elapsedMs },
  });
}

describe('the time a training has left', () => {
  it('is not told during the first epoch, whose steps said half (or 2.6 times) the time the runs had left', () => {
    // Steps alone: 2213 / 6 ms a step for the 6 left and 9 more epochs of 12 is 42 s, for 76 s really left; the other
    // run's warm-up made it 163 s for 62 s.
    expect(leftAtSixthStep(SLOWING_DOWN, 1)).toBeNull();
    expect(leftAtSixthStep(WARM_UP, 1)).toBeNull();
    expect(trainingTimeLeft({ epochs: 10, epochDurationsMs: [], batch: null })).toBeNull();
  });

  it('leaves the warm-up of the first epoch out of the pace once later epochs are known', () => {
    const left = leftAtSixthStep(WARM_UP, 3)!;
    const actual = WARM_UP.sixthSteps[3].leftMs;
    // With the 11.4 s first epoch averaged in, 64 s.
    expect(left).toBeGreaterThan(actual * 0.8);
    expect(left).toBeLessThan(actual * 1.2);
  });

  it('takes an epoch under way whose steps run slower than the epochs before at its own pace', () => {
    const { elapsedMs } = SLOWING_DOWN.sixthSteps[3];
    const secondEpoch = SLOWING_DOWN.epochDurationsMs[1];
    // Its 6 steps took 3.5 s, the second epoch's 12 took 3.9 s: its 6 other steps take 3.5 s more, not 0.4 s.
    expect(leftAtSixthStep(SLOWING_DOWN, 3)).toBeCloseTo(elapsedMs + 7 * secondEpoch);
  });

  it('counts the validation that ends each epoch, so the last step of an epoch does not say it is over', () => {
    // Epochs of 10 s whose 20 steps take 6 s: 4 s of validation.
    const left = trainingTimeLeft({
      epochs: 3,
      epochDurationsMs: [10_000],
      batch: { epoch: 2, batch: 20, batches: 20, elapsedMs: 6000 },
    });
    expect(left).toBe(4000 + 10_000);
  });

  it('has nothing left once the last epoch took its time: the run is finishing', () => {
    expect(
      trainingTimeLeft({
        epochs: 2,
        epochDurationsMs: [5000],
        batch: { epoch: 2, batch: 12, batches: 12, elapsedMs: 5200 },
      }),
    ).toBe(0);
    expect(trainingTimeLeft({ epochs: 10, epochDurationsMs: WARM_UP.epochDurationsMs, batch: null })).toBe(0);
  });
});
