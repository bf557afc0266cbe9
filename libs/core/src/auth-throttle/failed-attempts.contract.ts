import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { FailedAttempts } from './failed-attempts.port.js';

/** The behaviour every FailedAttempts adapter must have; each adapter's spec runs it. */
export function failedAttemptsContract(
  name: string,
  create: () => Promise<{ attempts: FailedAttempts; close(): Promise<void> }>,
): void {
  describe(`FailedAttempts contract: ${name}`, () => {
    let attempts: FailedAttempts;
    let close: () => Promise<void>;
    const key = () => `account:${randomUUID()}`;

    beforeAll(async () => {
      ({ attempts, close } = await create());
    });
    afterAll(() => close());

    it('counts failures per key, each key apart', async () => {
      const [ada, bob] = [key(), key()];
      expect((await attempts.record(ada, 60)).count).toBe(1);
      expect((await attempts.record(ada, 60)).count).toBe(2);
      expect((await attempts.record(bob, 60)).count).toBe(1);
      expect(await attempts.peek(ada)).toEqual({ count: 2, secondsLeft: expect.any(Number) });
    });

    it('answers the seconds left in the window opened by the first failure', async () => {
      const ada = key();
      const first = await attempts.record(ada, 60);
      expect(first.secondsLeft).toBeGreaterThan(50);
      expect(first.secondsLeft).toBeLessThanOrEqual(60);
      // A later failure does not push the end of the window back.
      expect((await attempts.record(ada, 600)).secondsLeft).toBeLessThanOrEqual(60);
    });

    it('peeks without counting, and knows nothing of a key without failures', async () => {
      const ada = key();
      expect(await attempts.peek(ada)).toEqual({ count: 0, secondsLeft: 0 });
      await attempts.record(ada, 60);
      await attempts.peek(ada);
      expect((await attempts.peek(ada)).count).toBe(1);
    });

    it('forgets a key on reset', async () => {
      const ada = key();
      await attempts.record(ada, 60);
      await attempts.reset(ada);
      expect(await attempts.peek(ada)).toEqual({ count: 0, secondsLeft: 0 });
      expect((await attempts.record(ada, 60)).count).toBe(1);
    });

    it('starts again from zero once the window has ended', async () => {
      const ada = key();
      await attempts.record(ada, 1);
      await attempts.record(ada, 1);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await attempts.peek(ada)).count).toBe(0);
      expect((await attempts.record(ada, 1)).count).toBe(1);
    });
  });
}
