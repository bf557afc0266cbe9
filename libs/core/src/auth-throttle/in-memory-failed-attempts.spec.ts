import { describe, expect, it } from '@jest/globals';
import { Clock, SystemClock } from '../domain/clock.js';
import { failedAttemptsContract } from './failed-attempts.contract.js';
import { InMemoryFailedAttempts } from './in-memory-failed-attempts.js';

failedAttemptsContract('in memory', async () => ({
  attempts: new InMemoryFailedAttempts(new SystemClock()),
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

describe('InMemoryFailedAttempts', () => {
  it('keeps at most maxKeys keys, dropping the oldest, so naming a new account per attempt cannot fill memory', async () => {
    const attempts = new InMemoryFailedAttempts(new ManualClock(), 3);
    for (const name of ['a', 'b', 'c', 'd']) await attempts.record(name, 60);
    expect((await attempts.peek('a')).count).toBe(0);
    expect((await attempts.peek('d')).count).toBe(1);
  });

  it('answers the seconds left as the clock moves', async () => {
    const clock = new ManualClock();
    const attempts = new InMemoryFailedAttempts(clock);
    await attempts.record('a', 60);
    clock.advance(45);
    expect(await attempts.peek('a')).toEqual({ count: 1, secondsLeft: 15 });
    clock.advance(15);
    expect(await attempts.peek('a')).toEqual({ count: 0, secondsLeft: 0 });
  });
});
