import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Lease } from '../lease/lease.port.js';

/** Opens leases on one shared backend, as separate processes would. */
export interface LeaseHarness {
  /** A Lease as another process would open it (the same instance where the adapter is per process). */
  open(): Promise<Lease>;
  /** Plays the death of the process that opened `lease`: no release, no renewal any more. */
  crash(lease: Lease): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The behaviour every Lease adapter must have. */
export function leaseContract(name: string, create: () => Promise<LeaseHarness>): void {
  describe(`Lease contract: ${name}`, () => {
    let harness: LeaseHarness;
    const leaseName = () => `reactor-${randomUUID()}`;

    afterEach(async () => {
      await harness.close();
    });

    it('gives a lease to one holder at a time, and to the next once it is released', async () => {
      harness = await create();
      const [first, second] = [await harness.open(), await harness.open()];
      const name = leaseName();
      const held = await first.tryAcquire(name, 10_000);
      expect(held?.name).toBe(name);
      expect(await second.tryAcquire(name, 10_000)).toBeUndefined();
      expect(await first.tryAcquire(name, 10_000)).toBeUndefined();
      expect(await held!.renew()).toBe(true);
      await held!.release();
      const next = await second.tryAcquire(name, 10_000);
      expect(next?.name).toBe(name);
      expect(await first.tryAcquire(leaseName(), 10_000)).not.toBeUndefined();
    });

    it('keeps the position for the next holder, starting at -1', async () => {
      harness = await create();
      const [first, second] = [await harness.open(), await harness.open()];
      const name = leaseName();
      const held = (await first.tryAcquire(name, 10_000))!;
      expect(await held.position()).toBe(-1);
      await held.advance(41);
      await held.advance(42);
      expect(await held.position()).toBe(42);
      await held.release();
      const next = (await second.tryAcquire(name, 10_000))!;
      expect(await next.position()).toBe(42);
    });

    it('keeps the newest position of each lease when several leases of one process advance at once', async () => {
      harness = await create();
      const lease = await harness.open();
      const held = await Promise.all(Array.from({ length: 8 }, () => lease.tryAcquire(leaseName(), 10_000)));
      // As reactors do when they catch up together: nobody waits for another's write before advancing again.
      await Promise.all(
        held.flatMap((one, index) => Array.from({ length: 10 }, (_, step) => one!.advance(index * 100 + step))),
      );
      expect(await Promise.all(held.map((one) => one!.position()))).toEqual(held.map((_, index) => index * 100 + 9));
    });

    it('gives the next holder the position advanced last before a release, even one not waited for', async () => {
      harness = await create();
      const [first, second] = [await harness.open(), await harness.open()];
      const name = leaseName();
      const held = (await first.tryAcquire(name, 10_000))!;
      await Promise.all([held.advance(1), held.advance(2), held.release()]);
      const next = (await second.tryAcquire(name, 10_000))!;
      expect(await next.position()).toBe(2);
      await next.advance(3);
      expect(await next.position()).toBe(3);
    });

    it('keeps a lease past its ttl for a holder that renews it in time', async () => {
      harness = await create();
      const [holder, other] = [await harness.open(), await harness.open()];
      const name = leaseName();
      const held = (await holder.tryAcquire(name, 1000))!;
      for (let renewal = 0; renewal < 6; renewal += 1) {
        await sleep(250);
        expect(await held.renew()).toBe(true);
        expect(await other.tryAcquire(name, 1000)).toBeUndefined();
      }
    });

    it('lapses after its ttl when the holder stops renewing though its process lives on, and that holder can no longer renew it nor move the position', async () => {
      harness = await create();
      const [stalled, other] = [await harness.open(), await harness.open()];
      const name = leaseName();
      const takenAt = Date.now();
      const held = (await stalled.tryAcquire(name, 500))!;
      await held.advance(5);
      expect(await other.tryAcquire(name, 10_000)).toBeUndefined();
      await sleep(600);
      expect(await held.renew()).toBe(false);
      await expect(held.advance(6)).rejects.toMatchObject({ code: 'LEASE_LOST' });

      const taken = await other.tryAcquire(name, 10_000);
      expect(Date.now() - takenAt).toBeGreaterThanOrEqual(500);
      expect(await taken!.position()).toBe(5);
      await expect(held.advance(7)).rejects.toMatchObject({ code: 'LEASE_LOST' });
      expect(await held.renew()).toBe(false);
      await held.release();
      expect(await stalled.tryAcquire(name, 10_000)).toBeUndefined();
      await taken!.advance(8);
      expect(await taken!.position()).toBe(8);
    });

    it('frees the lease of a holder that died, and that holder can no longer move the position', async () => {
      harness = await create();
      const [doomed, survivor] = [await harness.open(), await harness.open()];
      const name = leaseName();
      const held = (await doomed.tryAcquire(name, 300))!;
      await held.advance(7);
      await harness.crash(doomed);
      let taken = await survivor.tryAcquire(name, 10_000);
      for (let tries = 0; !taken && tries < 40; tries += 1) {
        await sleep(50);
        taken = await survivor.tryAcquire(name, 10_000);
      }
      expect(await taken!.position()).toBe(7);
      await expect(held.advance(8)).rejects.toMatchObject({ code: 'LEASE_LOST' });
      expect(await held.renew()).toBe(false);
      expect(await taken!.position()).toBe(7);
      await taken!.advance(9);
      expect(await taken!.position()).toBe(9);
    });
  });
}
