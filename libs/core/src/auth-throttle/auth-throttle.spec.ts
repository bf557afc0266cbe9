import { describe, expect, it } from 'vitest';
import { validateSettings } from '../config/settings.js';
import { Clock } from '../domain/clock.js';
import { DomainError, isDomainError } from '../domain/domain-error.js';
import { AuthThrottle } from './auth-throttle.js';
import { InMemoryWindowCounts } from '../window-counts/in-memory-window-counts.js';

class ManualClock extends Clock {
  private time = Date.parse('2026-01-01T00:00:00Z');
  now(): Date {
    return new Date(this.time);
  }
  advance(seconds: number): void {
    this.time += seconds * 1000;
  }
}

function throttleWith(clock = new ManualClock()) {
  const settings = validateSettings({
    AUTH_FAILURES_PER_ACCOUNT: 3,
    AUTH_FAILURES_PER_SOURCE: 5,
    AUTH_FAILURE_WINDOW_SECONDS: 60,
  });
  return { throttle: new AuthThrottle(new InMemoryWindowCounts(clock), settings), clock };
}

async function refusalOf(attempt: Promise<unknown>): Promise<DomainError | undefined> {
  try {
    await attempt;
    return undefined;
  } catch (error) {
    if (isDomainError(error)) return error;
    throw error;
  }
}

const ada = { source: '10.0.0.1', account: 'user:ada' };

describe('AuthThrottle', () => {
  it('refuses an account once it has used up its failures, with the seconds to wait', async () => {
    const { throttle, clock } = throttleWith();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await throttle.assertAllowed(ada);
      await throttle.recordFailure(ada);
    }
    clock.advance(20);
    const refused = await refusalOf(throttle.assertAllowed(ada));
    expect(refused).toMatchObject({
      kind: 'rate-limited',
      code: 'TOO_MANY_FAILED_ATTEMPTS',
      details: { retryAfterSeconds: 40 },
    });
    // The same account from another address is refused too; another account from the same address is not.
    expect(await refusalOf(throttle.assertAllowed({ ...ada, source: '10.0.0.2' }))).toBeDefined();
    expect(await refusalOf(throttle.assertAllowed({ ...ada, account: 'user:bob' }))).toBeUndefined();
  });

  it('lets the account in again once the window has ended', async () => {
    const { throttle, clock } = throttleWith();
    for (let attempt = 0; attempt < 3; attempt += 1) await throttle.recordFailure(ada);
    clock.advance(60);
    expect(await refusalOf(throttle.assertAllowed(ada))).toBeUndefined();
  });

  it('clears the account (not the address) on a successful sign-in', async () => {
    const { throttle } = throttleWith();
    for (let attempt = 0; attempt < 2; attempt += 1) await throttle.recordFailure(ada);
    await throttle.recordSuccess(ada);
    for (let attempt = 0; attempt < 2; attempt += 1) await throttle.recordFailure(ada);
    expect(await refusalOf(throttle.assertAllowed(ada))).toBeUndefined();
    await throttle.recordFailure({ ...ada, account: 'user:bob' });
    // Five failures from the address in all: it is refused, whatever account it names.
    expect(await refusalOf(throttle.assertAllowed({ ...ada, account: 'user:carol' }))).toMatchObject({
      code: 'TOO_MANY_FAILED_ATTEMPTS',
    });
  });

  it('answers a wrong token with its own refusal until the address is over its limit, then with 429', async () => {
    const { throttle } = throttleWith();
    const wrongToken = DomainError.unauthenticated('TOKEN_INVALID', 'no such token');
    const answers: string[] = [];
    for (let attempt = 0; attempt < 7; attempt += 1)
      answers.push(((await throttle.refuse({ source: '10.0.0.9' }, wrongToken)) as DomainError).code);
    expect(answers).toEqual([
      'TOKEN_INVALID',
      'TOKEN_INVALID',
      'TOKEN_INVALID',
      'TOKEN_INVALID',
      'TOKEN_INVALID',
      'TOO_MANY_FAILED_ATTEMPTS',
      'TOO_MANY_FAILED_ATTEMPTS',
    ]);
  });
});

describe('AuthThrottle while Redis does not answer', () => {
  it('refuses sign-ins with 503 AUTH_THROTTLE_UNAVAILABLE rather than let them through uncounted', async () => {
    const { RedisWindowCounts } = await import('../window-counts/redis-window-counts.js');
    // Nothing listens on port 1: each command fails after the connection's retries.
    const counts = RedisWindowCounts.connect('redis://127.0.0.1:1', 'diyml-test:counts:');
    const settings = validateSettings({});
    const throttle = new AuthThrottle(counts, settings);
    try {
      expect(await refusalOf(throttle.assertAllowed(ada))).toMatchObject({
        kind: 'unavailable',
        code: 'AUTH_THROTTLE_UNAVAILABLE',
      });
      expect(await refusalOf(throttle.recordFailure(ada))).toMatchObject({ code: 'AUTH_THROTTLE_UNAVAILABLE' });
    } finally {
      await counts.close().catch(() => {});
    }
  });
});
