import { describe, expect, it } from 'vitest';
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

  it('runs one slice per event-loop turn, whatever the number of long loops breathing at once', async () => {
    let slicesSinceLastTurn = 0;
    const slicesPerTurn: number[] = [];
    let looping = true;
    const countTurn = () => {
      slicesPerTurn.push(slicesSinceLastTurn);
      slicesSinceLastTurn = 0;
      if (looping) setImmediate(countTurn);
    };
    setImmediate(countTurn);
    const loop = async () => {
      const slices = new EventLoopSlices(0);
      for (let step = 0; step < 10; step += 1) {
        await slices.breathe();
        slicesSinceLastTurn += 1;
      }
    };
    await Promise.all([loop(), loop(), loop()]);
    looping = false;
    expect(Math.max(...slicesPerTurn)).toBe(1);
    expect(slicesPerTurn.reduce((sum, count) => sum + count, 0) + slicesSinceLastTurn).toBe(30);
  });

  it('stops a loop at its next step once its signal is aborted, with the signal’s reason', async () => {
    const stop = new AbortController();
    const slices = new EventLoopSlices(5, stop.signal);
    let steps = 0;
    const loop = (async () => {
      for (;;) {
        steps += 1;
        if (steps === 3) stop.abort(new Error('client left'));
        await slices.breathe();
      }
    })();
    await expect(loop).rejects.toThrow('client left');
    expect(steps).toBe(3);
  });
});

/** Work that runs until its `finish` is called, recording when it started. */
function controlled(log: string[], name: string) {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  return {
    work: async () => {
      log.push(`start ${name}`);
      await finished;
      log.push(`end ${name}`);
      return name;
    },
    finish: () => finish(),
  };
}

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

  it('drops a waiting run whose signal is aborted: its work never runs, and the runs behind it move up', async () => {
    const gate = new ConcurrencyGate(1);
    let releaseFirst!: () => void;
    const first = gate.run(() => new Promise<string>((resolve) => (releaseFirst = () => resolve('first'))));
    const leaving = new AbortController();
    const ran: string[] = [];
    const abandoned = gate.run(async () => void ran.push('abandoned'), { signal: leaving.signal });
    const last = gate.run(async () => {
      ran.push('last');
      return 'last';
    });
    leaving.abort(new Error('client left'));
    await expect(abandoned).rejects.toThrow('client left');
    releaseFirst();
    expect(await Promise.all([first, last])).toEqual(['first', 'last']);
    expect(ran).toEqual(['last']);
    // The slot is free again: a new run starts at once.
    expect(await gate.run(async () => 'next')).toBe('next');
  });

  it('refuses at once a run whose signal is already aborted', async () => {
    const gate = new ConcurrencyGate(1);
    const gone = AbortSignal.abort(new Error('client left'));
    await expect(gate.run(async () => 'never', { signal: gone })).rejects.toThrow('client left');
    expect(await gate.run(async () => 'next')).toBe('next');
  });

  describe('with weights', () => {
    it('runs work side by side while their weights fit, and the rest in the order it came as room frees', async () => {
      const log: string[] = [];
      const gate = new ConcurrencyGate(10);
      const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => controlled(log, name));
      const runs = [
        gate.run(a.work, { weight: 6 }),
        gate.run(b.work, { weight: 4 }),
        gate.run(c.work, { weight: 8 }),
        gate.run(d.work, { weight: 1 }),
      ];
      await nextTurn();
      // d would fit beside a and b's room once freed, but c came first: nothing overtakes it.
      expect(log).toEqual(['start a', 'start b']);
      b.finish();
      await nextTurn();
      expect(log).toEqual(['start a', 'start b', 'end b']);
      a.finish();
      await nextTurn();
      expect(log.slice(3)).toEqual(['end a', 'start c', 'start d']);
      c.finish();
      d.finish();
      expect(await Promise.all(runs)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('runs work heavier than the whole capacity alone, and frees its room when it fails', async () => {
      const log: string[] = [];
      const gate = new ConcurrencyGate(10);
      const heavy = controlled(log, 'heavy');
      const light = controlled(log, 'light');
      const heavyRun = gate.run(heavy.work, { weight: 1_000 });
      const lightRun = gate.run(light.work, { weight: 1 });
      await nextTurn();
      expect(log).toEqual(['start heavy']);
      heavy.finish();
      light.finish();
      await Promise.all([heavyRun, lightRun]);
      await expect(gate.run(() => Promise.reject(new Error('broken')), { weight: 10 })).rejects.toThrow('broken');
      expect(await gate.run(async () => 'room again', { weight: 10 })).toBe('room again');
    });
  });
});
