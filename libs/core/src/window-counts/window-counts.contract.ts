import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { WindowCounts } from './window-counts.port.js';

/** The behaviour every WindowCounts adapter must have; each adapter's spec runs it. */
export function windowCountsContract(
  name: string,
  create: () => Promise<{ counts: WindowCounts; close(): Promise<void> }>,
): void {
  describe(`WindowCounts contract: ${name}`, () => {
    let counts: WindowCounts;
    let close: () => Promise<void>;
    const key = () => `account:${randomUUID()}`;

    beforeAll(async () => {
      ({ counts, close } = await create());
    });
    afterAll(() => close());

    it('counts per key, each key apart', async () => {
      const [ada, bob] = [key(), key()];
      expect((await counts.record(ada, 60)).count).toBe(1);
      expect((await counts.record(ada, 60)).count).toBe(2);
      expect((await counts.record(bob, 60)).count).toBe(1);
      expect(await counts.peek(ada)).toEqual({ count: 2, secondsLeft: expect.any(Number) });
    });

    it('answers the seconds left in the window opened by the first count', async () => {
      const ada = key();
      const first = await counts.record(ada, 60);
      expect(first.secondsLeft).toBeGreaterThan(50);
      expect(first.secondsLeft).toBeLessThanOrEqual(60);
      // A later count does not push the end of the window back.
      expect((await counts.record(ada, 600)).secondsLeft).toBeLessThanOrEqual(60);
    });

    it('peeks without counting, and knows nothing of a key never counted', async () => {
      const ada = key();
      expect(await counts.peek(ada)).toEqual({ count: 0, secondsLeft: 0 });
      await counts.record(ada, 60);
      await counts.peek(ada);
      expect((await counts.peek(ada)).count).toBe(1);
    });

    it('forgets a key on reset', async () => {
      const ada = key();
      await counts.record(ada, 60);
      await counts.reset(ada);
      expect(await counts.peek(ada)).toEqual({ count: 0, secondsLeft: 0 });
      expect((await counts.record(ada, 60)).count).toBe(1);
    });

    it('starts again from zero once the window has ended', async () => {
      const ada = key();
      await counts.record(ada, 1);
      await counts.record(ada, 1);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await counts.peek(ada)).count).toBe(0);
      expect((await counts.record(ada, 1)).count).toBe(1);
    });
  });
}
