import { afterEach, describe, expect, it } from 'vitest';
import type { DiscoveryService } from '@nestjs/core';
import { type RecordedEvent, SqliteEventStore } from '@diyml/event-store';
import type { Lease } from '../lease/lease.port.js';
import type { Projection } from '../projection.js';
import { ProjectionRunner } from '../projection-runner.js';
import type { ReadStore } from '../read-store.port.js';

/** Read stores and leases on one shared backend, as separate processes would open them. */
export interface SharedReadStoreHarness {
  /** A read store on the shared database, emptied of the collections these tests use. */
  open(): Promise<ReadStore>;
  /** A lease where the replicas meet (the lease the api chooses beside this read store). */
  openLease(): Promise<Lease>;
}

interface Counter {
  id: string;
  count: number;
}

/**
 * The behaviour of a read store several processes share (PostgreSQL, MongoDB): one process at a time projects,
 * the others follow its checkpoints, and a process that was overtaken writes nothing more.
 */
export function sharedReadStoreContract(name: string, create: () => Promise<SharedReadStoreHarness>): void {
  describe(`Shared ReadStore contract: ${name}`, () => {
    const opened: { close(): Promise<void> }[] = [];
    const open = async (harness: SharedReadStoreHarness) => {
      const store = await harness.open();
      opened.push(store);
      return store;
    };
    const openLease = async (harness: SharedReadStoreHarness) => {
      const lease = await harness.openLease();
      opened.push(lease);
      return lease;
    };
    afterEach(async () => {
      for (const resource of opened.splice(0)) await resource.close();
    });

    it('refuses every write of a store another store claimed the read models after, and keeps what the new one writes', async () => {
      const harness = await create();
      const [before, after] = [await open(harness), await open(harness)];
      await before.claimWrites();
      await before.collection<Counter>('fenced').apply('kept', 1, () => ({ id: 'kept', count: 1 }));
      await before.checkpoints.set('fenced', { position: 1, version: 1 });
      await before.flush();
      // A change the overtaken store makes after the claim (as a batch in flight would be written).
      await after.claimWrites();
      const late = (async () => {
        await before.collection<Counter>('fenced').apply('late', 2, () => ({ id: 'late', count: 2 }));
        await before.flush();
      })();
      await expect(late).rejects.toMatchObject({ code: 'LEASE_LOST' });
      await expect(before.checkpoints.set('fenced', { position: 2, version: 1 })).rejects.toMatchObject({
        code: 'LEASE_LOST',
      });
      await expect(before.collection('fenced').clear()).rejects.toMatchObject({ code: 'LEASE_LOST' });

      expect(await after.collection<Counter>('fenced').get('late')).toBeUndefined();
      expect(await after.collection<Counter>('fenced').get('kept')).toEqual({ id: 'kept', count: 1 });
      expect(await after.checkpoints.get('fenced')).toEqual({ position: 1, version: 1 });
      await after.collection<Counter>('fenced').apply('late', 3, () => ({ id: 'late', count: 3 }));
      await after.checkpoints.set('fenced', { position: 3, version: 1 });
      expect(await before.collection<Counter>('fenced').get('late')).toEqual({ id: 'late', count: 3 });
      expect(await before.checkpoints.get('fenced')).toEqual({ position: 3, version: 1 });
    });

    it('lets one process at a time project; another follows its checkpoints and takes over when it stops', async () => {
      const harness = await create();
      const events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 10 });
      opened.push(events);
      const metadata = { userId: null, correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z' };
      const tick = async () =>
        (
          await events.append('shared-clock', [{ type: 'Ticked', v: 1, data: {} }], {
            expectedRevision: 'any',
            metadata,
          })
        ).position;
      for (let index = 0; index < 20; index += 1) await tick();
      const processes = await Promise.all(
        [1, 2].map(async () => {
          const store = await open(harness);
          const projection = ticks();
          const runner = new ProjectionRunner({} as DiscoveryService, events, store, false, await openLease(harness));
          runner.leaseTtlMs = 300;
          return { store, projection, runner };
        }),
      );
      const [first, second] = processes;
      await first.store.collection('ticks').clear();
      await first.store.checkpoints.set('ticks', { position: -1, version: 1 });
      await first.runner.start([first.projection]);
      await second.runner.start([second.projection]);
      expect([first.runner.projecting, second.runner.projecting]).toEqual([true, false]);
      const count = async () => (await second.store.collection<Counter>('ticks').get('total'))?.count;
      expect(await count()).toBe(20);

      // A write answered by the follower waits for the projecting process's checkpoint, then reads its documents.
      const written = await tick();
      await second.runner.waitFor(written);
      expect(await count()).toBe(21);
      expect(second.projection.applied).toEqual([]);

      // A write answered by the projecting process after its subscription had applied it already (quicker than the
      // append's answer): the follower serves it at once, though the document may have been held back to batch.
      const appliedFirst = await tick();
      while (first.runner.currentPosition < appliedFirst) await new Promise((resolve) => setImmediate(resolve));
      await first.runner.waitFor(appliedFirst);
      expect(await count()).toBe(22);

      await first.runner.stop();
      const afterHandOver = await tick();
      await second.runner.waitFor(afterHandOver, 30_000);
      expect(second.runner.projecting).toBe(true);
      expect(await count()).toBe(23);
      // It went on from the first process's checkpoint: every event applied once in all.
      expect([...first.projection.applied, ...second.projection.applied].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 23 }, (_, index) => index + 1),
      );

      await second.runner.stop();
      // Started again on checkpoints that reached the head: ready at once, with nothing to apply.
      const restarted = new ProjectionRunner(
        {} as DiscoveryService,
        events,
        second.store,
        false,
        await openLease(harness),
      );
      const again = ticks();
      await restarted.start([again]);
      expect([restarted.projecting, again.applied]).toEqual([true, []]);
      await restarted.stop();
    });
  });
}

/** Counts Ticked events in one document, as long as `proceed` says so; remembers the positions it applied. */
export function ticks(
  proceed: (event: RecordedEvent) => Promise<boolean> = async () => true,
): Projection & { applied: number[] } {
  const applied: number[] = [];
  return {
    name: 'ticks',
    version: 1,
    collections: ['ticks'],
    eventTypes: ['Ticked'],
    applied,
    async apply(event: RecordedEvent, store: ReadStore) {
      if (!(await proceed(event))) return;
      applied.push(event.position);
      await store
        .collection<Counter>('ticks')
        .apply('total', event.position, (current) => ({ id: 'total', count: (current?.count ?? 0) + 1 }));
    },
  };
}
