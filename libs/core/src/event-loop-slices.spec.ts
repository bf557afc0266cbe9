import { describe, expect, it } from '@jest/globals';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ConcurrencyGate, EventLoopSlices } from './event-loop-slices.js';

describe('EventLoopSlices', () => {
  it('lets a timer that came due run during a long loop that breathes', async () => {
    const slices = new EventLoopSlices(5);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const started = performance.now();
    while (!timerRan && performance.now() - started < 2000) await slices.breathe();
    expect(timerRan).toBe(true);
  });
});

describe('ConcurrencyGate', () => {
  it('runs at most its limit at once, the others in arrival order, and passes on failures', async () => {
    const gate = new ConcurrencyGate(2);
    let running = 0;
    let mostAtOnce = 0;
    const started: number[] = [];
    const runs = [0, 1, 2, 3, 4].map((index) =>
      gate.run(async () => {
        started.push(index);
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await nextTurn();
        running -= 1;
        if (index === 1) throw new Error('run 1 failed');
        return index;
      }),
    );
    const outcomes = await Promise.allSettled(runs);
    expect(mostAtOnce).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : 'failed'))).toEqual([
      0,
      'failed',
      2,
      3,
      4,
    ]);
  });
});
