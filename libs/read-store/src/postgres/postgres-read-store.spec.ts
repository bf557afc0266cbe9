import { describe, expect, it } from '@jest/globals';
import type { DiscoveryService } from '@nestjs/core';
import { type RecordedEvent, SqliteEventStore } from '@diyml/event-store';
import type { Projection } from '../projection.js';
import { ProjectionRunner } from '../projection-runner.js';
import type { ReadStore } from '../read-store.port.js';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { postgresTestServer } from '@diyml/core/testing/postgres-test-database.js';
import { PostgresLease } from '../lease/postgres-lease.js';
import { readStoreContract } from '../testing/read-store.contract.js';
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
      const { Client } = (await import('pg')).default;
      const client = new Client({ connectionString: database.url });
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
      } finally {
        await client.end();
        await store.close();
      }
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

    it('lets one process at a time project shared read models; another follows its checkpoints and takes over when it stops', async () => {
      const events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 10 });
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
          const store = await PostgresReadStore.connect(database.url);
          await store.collection('ticks').clear();
          const lease = new PostgresLease(database.url);
          const projection = ticks(async () => true);
          const runner = new ProjectionRunner({} as DiscoveryService, events, store, false, lease);
          runner.leaseTtlMs = 300;
          return { store, lease, projection, runner };
        }),
      );
      const [first, second] = processes;
      await first.store.checkpoints.set('ticks', { position: -1, version: 1 });
      await first.runner.start([first.projection]);
      await second.runner.start([second.projection]);
      expect([first.runner.projecting, second.runner.projecting]).toEqual([true, false]);
      const count = async () =>
        (await second.store.collection<{ id: string; count: number }>('ticks').get('total'))?.count;
      expect(await count()).toBe(20);

      // A write answered by the follower waits for the projecting process's checkpoint, then reads its documents.
      const written = await tick();
      await second.runner.waitFor(written);
      expect(await count()).toBe(21);
      expect(second.projection.applied).toEqual([]);

      await first.runner.stop();
      const afterHandOver = await tick();
      await second.runner.waitFor(afterHandOver, 30_000);
      expect(second.runner.projecting).toBe(true);
      expect(await count()).toBe(22);
      // It went on from the first process's checkpoint: every event applied once in all.
      expect([...first.projection.applied, ...second.projection.applied].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 22 }, (_, index) => index + 1),
      );

      await second.runner.stop();
      // Started again on checkpoints that reached the head: ready at once, with nothing to apply.
      const restarted = new ProjectionRunner({} as DiscoveryService, events, second.store, false, second.lease);
      const again = ticks(async () => true);
      await restarted.start([again]);
      expect([restarted.projecting, again.applied]).toEqual([true, []]);
      await restarted.stop();
      for (const { store, lease } of processes) await Promise.all([store.close(), lease.close()]);
      await events.close();
    });
  });
} else {
  it.skip('ReadStore contract: PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}

/** Counts Ticked events in one document, as long as `proceed` says so; remembers the positions it applied. */
function ticks(proceed: (event: RecordedEvent) => Promise<boolean>): Projection & { applied: number[] } {
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
        .collection<{ id: string; count: number }>('ticks')
        .apply('total', event.position, (current) => ({ id: 'total', count: (current?.count ?? 0) + 1 }));
    },
  };
}
