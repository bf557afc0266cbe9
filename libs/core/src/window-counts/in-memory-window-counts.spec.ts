import { describe, expect, it } from 'vitest';
import { Clock, SystemClock } from '../domain/clock.js';
import { windowCountsContract } from './window-counts.contract.js';
import { InMemoryWindowCounts } from './in-memory-window-counts.js';

windowCountsContract('in memory', async () => ({
  counts: new InMemoryWindowCounts(new SystemClock()),
  close: async () => {},
}));

class ManualClock extends Clock {
  constructor(private time = Date.parse('2026-01-01T00:00:00Z')) {
    super();
  }
  now(): Date {
    return new Date(this.time);
  }
  advance(seconds: number): void {
    this.time += seconds * 1000;
  }
}

describe('InMemoryWindowCounts', () => {
  it('keeps at most maxKeys keys, dropping the oldest, so naming a new account per attempt cannot fill memory', async () => {
    const counts = new InMemoryWindowCounts(new ManualClock(), 3);
    for (const name of ['a', 'b', 'c', 'd']) await counts.record(name, 60);
    expect((await counts.peek('a')).count).toBe(0);
    expect((await counts.peek('d')).count).toBe(1);
  });

  it('answers the seconds left as the clock moves', async () => {
    const clock = new ManualClock();
    const counts = new InMemoryWindowCounts(clock);
    await counts.record('a', 60);
    clock.advance(45);
    expect(await counts.peek('a')).toEqual({ count: 1, secondsLeft: 15 });
    clock.advance(15);
    expect(await counts.peek('a')).toEqual({ count: 0, secondsLeft: 0 });
  });
});
