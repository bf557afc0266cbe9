import { describe, expect, it } from 'vitest';
import { WeightedSemaphore } from './weighted-semaphore.js';

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

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('WeightedSemaphore', () => {
  it('runs work side by side while their weights fit, and the rest in the order it came as room frees', async () => {
    const log: string[] = [];
    const semaphore = new WeightedSemaphore(10);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => controlled(log, name));
    const runs = [
      semaphore.run(6, a.work),
      semaphore.run(4, b.work),
      semaphore.run(8, c.work),
      semaphore.run(1, d.work),
    ];
    await settle();
    // d would fit beside a and b's room once freed, but c came first: nothing overtakes it.
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'end b']);
    a.finish();
    await settle();
    expect(log.slice(3)).toEqual(['end a', 'start c', 'start d']);
    c.finish();
    d.finish();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('runs work heavier than the whole capacity alone, and frees its room when it fails', async () => {
    const log: string[] = [];
    const semaphore = new WeightedSemaphore(10);
    const heavy = controlled(log, 'heavy');
    const light = controlled(log, 'light');
    const heavyRun = semaphore.run(1_000, heavy.work);
    const lightRun = semaphore.run(1, light.work);
    await settle();
    expect(log).toEqual(['start heavy']);
    heavy.finish();
    light.finish();
    await Promise.all([heavyRun, lightRun]);
    await expect(semaphore.run(10, () => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
    expect(await semaphore.run(10, async () => 'room again')).toBe('room again');
  });
});
