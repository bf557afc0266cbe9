import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { AdvisoryLock, DIYML_LOCK_SPACE, type EventMetadata } from '@diyml/core';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { createPostgresTestDatabase, postgresTestServer } from '@diyml/core/testing/postgres-test-database.js';
import { EVENT_ID_REUSED } from '../event-ids.js';
import type { RecordedEvent } from '../event-store.port.js';
import { eventStoreContract } from '../testing/event-store.contract.js';
import { Upcasters } from '../upcasters.js';
import { WRONG_EXPECTED_REVISION } from '../wrong-expected-revision.error.js';
import { PostgresEventStore } from './postgres-event-store.js';

const server = postgresTestServer();
const metadata: EventMetadata = { userId: null, correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z' };

if (server) {
  const database = postgresDatabaseForThisFile(server);

  // A long poll interval: live events in the contract must arrive through LISTEN/NOTIFY.
  eventStoreContract('PostgreSQL', async () =>
    PostgresEventStore.connect({ url: database.url, pollIntervalMs: 60_000 }),
  );

  describe('PostgresEventStore with several processes', () => {
    it('migrates once when two processes start at the same time, and again finds nothing to do', async () => {
      const fresh = await createPostgresTestDatabase(server);
      try {
        const stores = await Promise.all([1, 2, 3].map(() => PostgresEventStore.connect({ url: fresh.url })));
        await stores[0].append('s-1', [{ type: 'A', v: 1, data: {} }], { expectedRevision: 'no_stream', metadata });
        await Promise.all(stores.map((store) => store.close()));
        const again = await PostgresEventStore.connect({ url: fresh.url });
        expect(await again.headPosition()).toBe(1);
        await again.close();
      } finally {
        await fresh.drop();
      }
    });

    it('gives a subscriber in one process every event appended concurrently through two other pools, in order', async () => {
      const [writerA, writerB, reader] = await Promise.all(
        [1, 2, 3].map(() => PostgresEventStore.connect({ url: database.url, pollIntervalMs: 60_000 })),
      );
      const before = await reader.headPosition();
      const total = 200;
      const received: RecordedEvent[] = [];
      const allArrived = new Promise<void>((resolve) => {
        reader.subscribeToAll(before, (recorded) => {
          received.push(recorded);
          if (received.length === total) resolve();
        });
      });
      await Promise.all(
        Array.from({ length: total }, (_, index) =>
          (index % 2 ? writerA : writerB).append(`s-${randomUUID()}`, [{ type: 'Concurrent', v: 1, data: { index } }], {
            expectedRevision: 'no_stream',
            metadata,
          }),
        ),
      );
      await allArrived;
      expect(received.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => before + 1 + i));
      expect(new Set(received.map((e) => (e.data as { index: number }).index)).size).toBe(total);
      await Promise.all([writerA.close(), writerB.close(), reader.close()]);
    });

    it('still delivers live events after its LISTEN connection was cut, appended while it was down', async () => {
      const store = await PostgresEventStore.connect({ url: database.url, pollIntervalMs: 60_000 });
      const stream = `s-${randomUUID()}`;
      const received: string[] = [];
      let arrived: () => void = () => {};
      const subscription = store.subscribeToAll(await store.headPosition(), (recorded) => {
        if (recorded.streamId !== stream) return;
        received.push(recorded.type);
        arrived();
      });
      const writer = await PostgresEventStore.connect({ url: database.url });
      const next = () => new Promise<void>((resolve) => (arrived = resolve));
      let arriving = next();
      await writer.append(stream, [{ type: 'BeforeCut', v: 1, data: {} }], { expectedRevision: 'no_stream', metadata });
      await arriving;
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'diyml-event-listener' AND datname = current_database()`,
      );
      await admin.end();
      arriving = next();
      await writer.append(stream, [{ type: 'AfterCut', v: 1, data: {} }], { expectedRevision: 0, metadata });
      await arriving;
      expect(received).toEqual(['BeforeCut', 'AfterCut']);
      await subscription.close();
      await Promise.all([store.close(), writer.close()]);
    });

    it('sends an append again when its connection is cut before the answer, and stores it once', async () => {
      const store = await PostgresEventStore.connect({ url: database.url, poolSize: 1 });
      const stream = `s-${randomUUID()}`;
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      // Holding the appends lock keeps the append waiting on the server, where its connection is then cut.
      await admin.query('BEGIN');
      await admin.query('SELECT pg_advisory_xact_lock($1, $2)', [DIYML_LOCK_SPACE, AdvisoryLock.eventAppends]);
      const appending = store.append(stream, [{ type: 'Sent', v: 1, data: {} }], {
        expectedRevision: 'no_stream',
        metadata,
      });
      let cut = 0;
      while (cut === 0) {
        const { rowCount } = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = 'diyml-event-store' AND wait_event_type = 'Lock' AND datname = current_database()`,
        );
        cut = rowCount ?? 0;
      }
      await admin.query('COMMIT');
      await admin.end();
      const result = await appending;
      expect(await store.readStream(stream)).toEqual([
        expect.objectContaining({ type: 'Sent', position: result.position }),
      ]);
      await store.close();
    });

    it('lands the other appends sent with one that reuses an event id', async () => {
      const store = await PostgresEventStore.connect({ url: database.url });
      const taken = randomUUID();
      await store.append(`s-${randomUUID()}`, [{ type: 'First', v: 1, data: {} }], {
        expectedRevision: 'no_stream',
        metadata,
        eventIds: [taken],
      });
      const streams = Array.from({ length: 10 }, () => `s-${randomUUID()}`);
      const results = await Promise.allSettled(
        streams.map((stream, index) =>
          store.append(
            stream,
            [
              { type: 'A', v: 1, data: {} },
              { type: 'B', v: 1, data: {} },
            ],
            {
              expectedRevision: 'no_stream',
              metadata,
              eventIds: [randomUUID(), index === 4 ? taken : randomUUID()],
            },
          ),
        ),
      );
      expect(results.map((result) => result.status)).toEqual(
        streams.map((_, index) => (index === 4 ? 'rejected' : 'fulfilled')),
      );
      expect(results[4]).toMatchObject({ reason: { code: EVENT_ID_REUSED } });
      const lengths = await Promise.all(streams.map(async (stream) => (await store.readStream(stream)).length));
      expect(lengths).toEqual(streams.map((_, index) => (index === 4 ? 0 : 2)));
      await store.close();
    });

    it('commits the appends that wait behind one in flight together, each with its own revision check', async () => {
      const store = await PostgresEventStore.connect({ url: database.url });
      const contested = `s-${randomUUID()}`;
      await store.append(contested, [{ type: 'Created', v: 1, data: {} }], { expectedRevision: 'no_stream', metadata });
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      // Holding the appends lock keeps one append in flight while the others arrive and wait for the next batch.
      await admin.query('BEGIN');
      await admin.query('SELECT pg_advisory_xact_lock($1, $2)', [DIYML_LOCK_SPACE, AdvisoryLock.eventAppends]);
      const inFlight = store.append(`s-${randomUUID()}`, [{ type: 'InFlight', v: 1, data: {} }], {
        expectedRevision: 'no_stream',
        metadata,
      });
      let blocked = 0;
      while (blocked === 0) {
        const { rowCount } = await admin.query(
          `SELECT pid FROM pg_stat_activity
           WHERE application_name = 'diyml-event-store' AND wait_event_type = 'Lock' AND datname = current_database()`,
        );
        blocked = rowCount ?? 0;
      }
      // Settled from the start: the losing rival is refused while the test still waits for the one in flight, and a
      // rejection nobody handles yet ends the process (Node's default, and tfjs-backend-wasm's handler rethrows it).
      const rivals = Promise.allSettled([
        store.append(contested, [{ type: 'Rival', v: 1, data: { rival: 1 } }], { expectedRevision: 0, metadata }),
        store.append(contested, [{ type: 'Rival', v: 1, data: { rival: 2 } }], { expectedRevision: 0, metadata }),
      ]);
      const streams = Array.from({ length: 20 }, () => `s-${randomUUID()}`);
      const others = streams.map((stream, index) =>
        store.append(stream, [{ type: 'Other', v: 1, data: { index } }], { expectedRevision: 'no_stream', metadata }),
      );
      await admin.query('COMMIT');
      await admin.end();
      const first = await inFlight;
      const [won, lost] = await rivals;
      expect(won).toMatchObject({ status: 'fulfilled', value: { revision: 1 } });
      expect(lost).toMatchObject({ status: 'rejected', reason: { code: WRONG_EXPECTED_REVISION } });
      const landed = await Promise.all(others);
      // Every append that waited landed right after the one in flight, in the order they were made, gaplessly.
      const positions = [
        (won as PromiseFulfilledResult<{ position: number }>).value.position,
        ...landed.map((r) => r.position),
      ];
      expect(positions).toEqual(Array.from({ length: 21 }, (_, i) => first.position + 1 + i));
      const log = await store.readAll({ after: first.position });
      expect(log.map((e) => e.streamId)).toEqual([contested, ...streams]);
      expect(await store.readStream(contested)).toEqual([
        expect.objectContaining({ revision: 0, type: 'Created' }),
        expect.objectContaining({ revision: 1, type: 'Rival', data: { rival: 1 } }),
      ]);
      // One transaction, so one commit and one WAL flush, for all of them.
      const reader = new pg.Client({ connectionString: database.url });
      await reader.connect();
      const { rows } = await reader.query<{ transactions: string }>(
        'SELECT count(DISTINCT xmin::text) AS transactions FROM events WHERE position > $1',
        [first.position],
      );
      await reader.end();
      expect(Number(rows[0].transactions)).toBe(1);
      await store.close();
    });

    it('keeps the text of event data as written and upcasts old versions on read', async () => {
      const upcasters = new Upcasters([
        { type: 'Renamed', fromVersion: 1, upcast: (data) => ({ name: (data as { title: string }).title }) },
      ]);
      const store = await PostgresEventStore.connect({ url: database.url, upcasters });
      const stream = `s-${randomUUID()}`;
      await store.append(stream, [{ type: 'Renamed', v: 1, data: { title: 'old shape', z: 1, a: 2 } }], {
        expectedRevision: 'no_stream',
        metadata,
      });
      const [upcast] = await store.readStream(stream);
      expect(upcast).toMatchObject({ v: 2, data: { name: 'old shape' } });
      const plain = await PostgresEventStore.connect({ url: database.url });
      const [stored] = await plain.readStream(stream);
      expect(Object.keys(stored.data as object)).toEqual(['title', 'z', 'a']);
      await Promise.all([store.close(), plain.close()]);
    });

    it('gives a subscriber catching up over several full batches every event once, in order, also those appended meanwhile', async () => {
      // Batches of 1000 are read ahead while the subscriber handles the one before: none may be skipped or repeated.
      const fresh = await createPostgresTestDatabase(server);
      const store = await PostgresEventStore.connect({ url: fresh.url, pollIntervalMs: 60_000 });
      const events = (count: number) =>
        Array.from({ length: count }, (_, i) => ({ type: 'Counted', v: 1, data: { i } }));
      await store.append('counter-1', events(2500), { expectedRevision: 'no_stream', metadata });
      const seen: number[] = [];
      let caughtUp!: () => void;
      const done = new Promise<void>((resolve) => (caughtUp = resolve));
      const subscription = store.subscribeToAll(-1, async (event) => {
        seen.push(event.position);
        if (seen.length === 1500)
          await store.append('counter-2', events(1000), { expectedRevision: 'no_stream', metadata });
        if (seen.length === 3500) caughtUp();
      });
      await done;
      await subscription.close();
      expect(seen).toEqual(Array.from({ length: 3500 }, (_, i) => i + 1));
      // The same batches asked for again are still whole.
      expect((await store.readAll({ after: 1000, limit: 1000 })).map((e) => e.position)).toEqual(
        Array.from({ length: 1000 }, (_, i) => i + 1001),
      );
      await store.close();
      await fresh.drop();
    });
  });
} else {
  it.skip('EventStore contract: PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}
