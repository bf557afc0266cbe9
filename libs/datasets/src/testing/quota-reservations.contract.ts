import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { InFlight, QuotaReservations } from '../upload/quota-reservations/quota-reservations.port.js';

/** Opens reservations on one shared store, as separate processes would. */
export interface QuotaReservationsHarness {
  /** QuotaReservations as another process would open them (the same instance where the adapter is per process). */
  open(): Promise<QuotaReservations>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Refused extends Error {}

/** The behaviour every QuotaReservations adapter must have. */
export function quotaReservationsContract(name: string, create: () => Promise<QuotaReservationsHarness>): void {
  describe(`QuotaReservations contract: ${name}`, () => {
    let harness: QuotaReservationsHarness;
    const owner = () => `user-${randomUUID()}`;

    afterEach(async () => {
      await harness.close();
    });

    it('shows a check what the reservations before it hold under its keys, until they are given back', async () => {
      harness = await create();
      const [first, second] = [await harness.open(), await harness.open()];
      const user = owner();
      const [userKey, projectKey, otherProject] = [
        `user:${user}`,
        `project:${randomUUID()}`,
        `project:${randomUUID()}`,
      ];
      const seen: InFlight[] = [];
      const look = async (inFlight: InFlight) => void seen.push(new Map(inFlight));
      const three = await first.reserve(user, [userKey, projectKey], 3, 10_000, look);
      const four = await second.reserve(user, [userKey, otherProject], 4, 10_000, look);
      await first.reserve(user, [userKey, projectKey, otherProject], 0, 10_000, look);
      expect(seen).toEqual([
        new Map(),
        new Map([[userKey, 3]]),
        new Map([
          [userKey, 7],
          [projectKey, 3],
          [otherProject, 4],
        ]),
      ]);
      await three.release();
      expect(await four.renew()).toBe(true);
      await second.reserve(user, [userKey, projectKey, otherProject], 0, 10_000, look);
      expect(seen.at(-1)).toEqual(
        new Map([
          [userKey, 4],
          [otherProject, 4],
        ]),
      );
    });

    it('reserves nothing for a check that throws, and throws its error', async () => {
      harness = await create();
      const reservations = await harness.open();
      const user = owner();
      const keys = [`user:${user}`];
      await expect(
        reservations.reserve(user, keys, 5, 10_000, async () => {
          throw new Refused('no room');
        }),
      ).rejects.toBeInstanceOf(Refused);
      let seen: InFlight | undefined;
      await reservations.reserve(user, keys, 1, 10_000, async (inFlight) => void (seen = inFlight));
      expect(seen).toEqual(new Map());
    });

    it('runs the checks of one owner one at a time across processes: concurrent ones take exactly the room', async () => {
      harness = await create();
      const opened = [await harness.open(), await harness.open(), await harness.open()];
      const user = owner();
      const keys = [`user:${user}`];
      const room = 7;
      const outcomes = await Promise.all(
        Array.from({ length: 24 }, (_, index) =>
          opened[index % opened.length]
            .reserve(user, keys, 1, 10_000, async (inFlight) => {
              // A read of the read models between the reading and the reserving.
              await sleep(2);
              if ((inFlight.get(keys[0]) ?? 0) + 1 > room) throw new Refused();
            })
            .then(
              () => 'taken',
              (error: unknown) => (error instanceof Refused ? 'refused' : error),
            ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === 'taken')).toHaveLength(room);
      expect(outcomes.filter((outcome) => outcome === 'refused')).toHaveLength(24 - room);
    });

    it('does not make one owner wait for the check of another', async () => {
      harness = await create();
      const [first, second] = [await harness.open(), await harness.open()];
      let finish!: () => void;
      const slowCheck = new Promise<void>((resolve) => (finish = resolve));
      const slow = first.reserve(owner(), ['user:slow'], 1, 10_000, () => slowCheck);
      const other = owner();
      const quick = await second.reserve(other, [`user:${other}`], 1, 10_000, async () => undefined);
      await quick.release();
      finish();
      await (await slow).release();
    });

    it('lets a reservation that is not renewed lapse after its ttl (its process died), and not be renewed after', async () => {
      harness = await create();
      const [doomed, survivor] = [await harness.open(), await harness.open()];
      const user = owner();
      const keys = [`user:${user}`];
      const abandoned = await doomed.reserve(user, keys, 5, 300, async () => undefined);
      const kept = await doomed.reserve(user, keys, 2, 60_000, async () => undefined);
      let inFlight: InFlight = new Map([[keys[0], 7]]);
      for (let tries = 0; tries < 100 && inFlight.get(keys[0]) !== 2; tries++) {
        await sleep(50);
        await survivor.reserve(user, keys, 0, 10_000, async (seen) => void (inFlight = seen));
      }
      expect(inFlight.get(keys[0])).toBe(2);
      expect(await kept.renew()).toBe(true);
      expect(await abandoned.renew()).toBe(false);
    });
  });
}
