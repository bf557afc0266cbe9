import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DiscoveryService } from '@nestjs/core';
import { SqliteEventStore } from '@diyml/event-store';
import { ProjectionRunner } from '../projection-runner.js';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { postgresTestServer, withPostgresClient } from '@diyml/core/testing/postgres-test-database.js';
import { PostgresLease } from '../lease/postgres-lease.js';
import { readStoreContract } from '../testing/read-store.contract.js';
import { sharedReadStoreContract, ticks } from '../testing/shared-read-store.contract.js';
import { PostgresReadStore } from './postgres-read-store.js';

const server = postgresTestServer();

if (server) {
  const database = postgresDatabaseForThisFile(server);

  readStoreContract('PostgreSQL', async () => {
    const store = await PostgresReadStore.connect(database.url);
    for (const name of await store.collectionNames()) await store.collection(name).clear();
    await store.collection('cleared').clear();
    return store;
  });

  sharedReadStoreContract('PostgreSQL', async () => ({
    async open() {
      const store = await PostgresReadStore.connect(database.url);
      for (const name of ['fenced', 'ticks']) await store.collection(name).clear();
      return store;
    },
    openLease: async () => new PostgresLease(database.url),
  }));

  describe('PostgresReadStore shared by several replicas', () => {
    it('loses no change when two replicas apply different events to one document at the same time', async () => {
      const [first, second] = await Promise.all([
        PostgresReadStore.connect(database.url),
        PostgresReadStore.connect(database.url),
      ]);
      const counters = [first, second].map((store) => store.collection<{ id: string; seen: number[] }>('counters'));
      // Each replica applies every event in log order, as a projection runner does; they race on each one.
      for (let position = 1; position <= 30; position += 1) {
        await Promise.all(
          counters.map((counter) =>
            counter.apply('c', position, (current) => ({ id: 'c', seen: [...(current?.seen ?? []), position] })),
          ),
        );
      }
      expect((await counters[0].get('c'))?.seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      await Promise.all([first.close(), second.close()]);
    });

    it("builds on another replica's newer version of a document, not on the one it wrote itself", async () => {
      const [first, second] = await Promise.all([
        PostgresReadStore.connect(database.url),
        PostgresReadStore.connect(database.url),
      ]);
      type Trail = { id: string; by: string[] };
      const append =
        (by: string) =>
        (current: Trail | undefined): Trail => ({ id: 't', by: [...(current?.by ?? []), by] });
      // Each change is written (flushed) before the next replica moves, as when they run apart in time.
      await first.collection<Trail>('trails').apply('t', 1, append('first'));
      await first.flush();
      await second.collection<Trail>('trails').apply('t', 2, append('second'));
      await second.flush();
      await first.collection<Trail>('trails').apply('t', 3, append('first again'));
      await first.flush();
      expect((await first.collection<Trail>('trails').get('t'))?.by).toEqual(['first', 'second', 'first again']);
      await second.collection<Trail>('trails').clear();
      await first.collection<Trail>('trails').apply('t', 4, append('after clear'));
      await first.flush();
      expect(await second.collection<Trail>('trails').get('t')).toEqual({ id: 't', by: ['after clear'] });
      await Promise.all([first.close(), second.close()]);
    });

    it('answers equality filters on a large collection from the JSONB index rather than a scan', async () => {
      const store = await PostgresReadStore.connect(database.url);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query(
          `INSERT INTO read_models (collection, id, position, document)
           SELECT 'images', 'i' || n, n, jsonb_build_object('id', 'i' || n, 'projectId', 'p' || (n % 100), 'seq', n)
           FROM generate_series(1, 20000) AS n`,
        );
        // As autovacuum would: moves new entries from the GIN pending list into the index and gathers statistics.
        await client.query('VACUUM ANALYZE read_models');
        expect(await store.collection<{ id: string; projectId: string }>('images').count({ projectId: 'p7' })).toBe(
          200,
        );
        const plan = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN SELECT document FROM read_models
           WHERE collection = 'images' AND document IS NOT NULL AND document @> '{"projectId":"p7"}'::jsonb`,
        );
        expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('read_models_document');
        // { in: [...] }: one lookup per value in the same index.
        expect(
          await store
            .collection<{ id: string; projectId: string }>('images')
            .count({ projectId: { in: ['p7', 'p8'] } }),
        ).toBe(400);
        const anyOfPlan = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN SELECT document FROM read_models
           WHERE collection = 'images' AND document IS NOT NULL
             AND document @> ANY(ARRAY['{"projectId":"p7"}', '{"projectId":["p7"]}', '{"projectId":"p8"}']::jsonb[])`,
        );
        expect(anyOfPlan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('read_models_document');
      } finally {
        await client.end();
        await store.close();
      }
    });
    it('a store that claims the read models after another builds on what the other wrote: its rows are read, not taken as absent', async () => {
      type Tally = { id: string; count: number };
      const tally = (current: Tally | undefined, id: string): Tally => ({ id, count: (current?.count ?? 0) + 1 });
      const before = await PostgresReadStore.connect(database.url);
      await before.claimWrites();
      await before.collection<Tally>('tallies').clear();
      await before.collection<Tally>('tallies-empty').clear();
      for (const [position, id] of ['a', 'b', 'a'].entries()) {
        await before.collection<Tally>('tallies').apply(id, position + 1, (current) => tally(current, id));
      }
      await before.checkpoints.set('tallies', { position: 3, version: 1 });
      // The next projecting process knows nothing of these rows: it must read them, not take them as absent.
      const after = await PostgresReadStore.connect(database.url);
      await after.claimWrites();
      const tallies = after.collection<Tally>('tallies');
      expect(await tallies.get('a')).toEqual({ id: 'a', count: 2 });
      await tallies.apply('b', 4, (current) => tally(current, 'b'));
      await tallies.apply('c', 5, (current) => tally(current, 'c'));
      expect(await after.collection<Tally>('tallies-empty').findAll()).toEqual([]);
      expect(await tallies.findAll()).toEqual([
        { id: 'a', count: 2 },
        { id: 'b', count: 2 },
        { id: 'c', count: 1 },
      ]);
      await after.checkpoints.set('tallies', { position: 5, version: 1 });
      // The document changes landed with the checkpoint: a third store reads both from the tables.
      const reader = await PostgresReadStore.connect(database.url);
      expect(await reader.checkpoints.get('tallies')).toEqual({ position: 5, version: 1 });
      expect(await reader.collection<Tally>('tallies').get('b')).toEqual({ id: 'b', count: 2 });
      await Promise.all([before.close(), after.close(), reader.close()]);
    });

    it('a store that stopped projecting answers what the store projecting after it wrote, not what it remembers', async () => {
      type Note = { id: string; text: string };
      const first = await PostgresReadStore.connect(database.url);
      await first.claimWrites();
      await first.collection<Note>('notes').clear();
      await first.collection<Note>('notes').apply('n', 1, () => ({ id: 'n', text: 'first' }));
      await first.flush();
      first.releaseWrites(); // its runner lost the projections lease
      const second = await PostgresReadStore.connect(database.url);
      await second.claimWrites();
      await second.collection<Note>('notes').apply('n', 2, () => ({ id: 'n', text: 'second' }));
      await second.collection<Note>('notes').apply('m', 3, () => ({ id: 'm', text: 'new' }));
      await second.flush();
      expect(await first.collection<Note>('notes').get('n')).toEqual({ id: 'n', text: 'second' });
      expect(await first.collection<Note>('notes').get('m')).toEqual({ id: 'm', text: 'new' });
      await Promise.all([first.close(), second.close()]);
    });
  });

  describe('ProjectionRunner on PostgreSQL', () => {
    it('resumes a catch-up cut short by a crash from its last checkpoint, losing and repeating nothing visible', async () => {
      const events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 10 });
      const metadata = { userId: null, correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z' };
      const total = 1200;
      for (let index = 0; index < total; index += 1) {
        await events.append('clock', [{ type: 'Ticked', v: 1, data: {} }], { expectedRevision: 'any', metadata });
      }
      const crashAt = 900;
      let crashed!: () => void;
      const crashing = new Promise<void>((resolve) => (crashed = resolve));
      let resume!: () => void;
      const frozen = new Promise<void>((resolve) => (resume = resolve));
      // The first process's projection stops for good at crashAt, as if the process had died there.
      const first = ticks(async (event) => {
        if (event.position < crashAt) return true;
        crashed();
        await frozen;
        return false;
      });
      const firstStore = await PostgresReadStore.connect(database.url);
      const firstRunner = new ProjectionRunner({} as DiscoveryService, events, firstStore);
      void firstRunner.start([first]);
      await crashing;

      const secondStore = await PostgresReadStore.connect(database.url);
      const second = ticks(async () => true);
      const secondRunner = new ProjectionRunner({} as DiscoveryService, events, secondStore);
      await secondRunner.start([second]);
      const counted = await secondStore.collection<{ id: string; count: number }>('ticks').get('total');
      expect(counted?.count).toBe(total);
      // It went on from a checkpoint saved during the first catch-up, not from the start.
      expect(second.applied[0]).toBeGreaterThan(1);
      expect(second.applied[0]).toBeLessThanOrEqual(crashAt);
      expect(second.applied.at(-1)).toBe(total);

      resume();
      await secondRunner.stop();
      await firstRunner.stop();
      await Promise.all([firstStore.close(), secondStore.close(), events.close()]);
    });

    it('refuses the batch in flight of a process that lost the projections lease: the shared checkpoint never goes back', async () => {
      const events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 10 });
      const metadata = { userId: null, correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z' };
      const tick = async () =>
        (
          await events.append('fenced-clock', [{ type: 'Ticked', v: 1, data: {} }], {
            expectedRevision: 'any',
            metadata,
          })
        ).position;
      for (let index = 0; index < 10; index += 1) await tick();
      const leaseConnection = `diyml-lease-fencing-${randomUUID()}`;
      let heldAt!: () => void;
      const held = new Promise<void>((resolve) => (heldAt = resolve));
      let resume!: () => void;
      const resumed = new Promise<void>((resolve) => (resume = resolve));
      // The first process stops in the middle of applying event 11, as one paused by the machine or the network.
      const first = {
        store: await PostgresReadStore.connect(database.url),
        lease: new PostgresLease(database.url, leaseConnection),
        projection: ticks(async (event) => {
          if (event.position === 11) {
            heldAt();
            await resumed;
          }
          return true;
        }),
      };
      await first.store.collection('ticks').clear();
      await first.store.checkpoints.set('ticks', { position: -1, version: 1 });
      const firstRunner = new ProjectionRunner({} as DiscoveryService, events, first.store, false, first.lease);
      firstRunner.leaseTtlMs = 300;
      await firstRunner.start([first.projection]);
      void tick();
      await held;

      // Its lease connection is cut: the lease is free, and a second process takes it and projects on.
      await withPostgresClient(database.url, (client) =>
        client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
          leaseConnection,
        ]),
      );
      const second = {
        store: await PostgresReadStore.connect(database.url),
        lease: new PostgresLease(database.url),
        projection: ticks(),
      };
      const secondRunner = new ProjectionRunner({} as DiscoveryService, events, second.store, false, second.lease);
      secondRunner.leaseTtlMs = 300;
      await secondRunner.start([second.projection]);
      expect(secondRunner.projecting).toBe(true);
      await tick();
      const last = await tick();
      await secondRunner.waitFor(last);
      // Published a moment after the event.
      await eventually(async () => (await second.store.checkpoints.get('ticks'))?.position === 13);

      // The first process wakes up with event 11 applied in memory: neither it nor its checkpoint may land.
      resume();
      await eventually(async () => !firstRunner.projecting);
      expect(first.projection.applied).toContain(11);
      expect(await second.store.checkpoints.get('ticks')).toEqual({ position: 13, version: 1 });
      expect(await second.store.collection<{ id: string; count: number }>('ticks').get('total')).toEqual({
        id: 'total',
        count: 13,
      });
      const afterWards = await tick();
      await secondRunner.waitFor(afterWards);
      expect(await second.store.collection<{ id: string; count: number }>('ticks').get('total')).toEqual({
        id: 'total',
        count: 14,
      });
      expect(first.projection.applied).not.toContain(afterWards);

      await secondRunner.stop();
      await firstRunner.stop();
      await Promise.all([
        first.store.close(),
        first.lease.close(),
        second.store.close(),
        second.lease.close(),
        events.close(),
      ]);
    });
  });
} else {
  it.skip('ReadStore contract: PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}

/** Waits until `condition` holds; fails after 20 s. */
async function eventually(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('The condition did not hold within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
