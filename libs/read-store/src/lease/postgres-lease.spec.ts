import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import {
  createPostgresTestDatabase,
  postgresTestServer,
  withPostgresClient,
} from '@diyml/core/testing/postgres-test-database.js';
import { leaseContract } from '../testing/lease.contract.js';
import { PostgresLease } from './postgres-lease.js';

const server = postgresTestServer();

/** Plays the death of a process: the server ends its session (and waits until it is gone). */
const endSessionOf = (url: string, applicationName: string) =>
  withPostgresClient(url, (client) =>
    client.query('SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]),
  );

if (server) {
  const database = postgresDatabaseForThisFile(server);

  leaseContract('PostgreSQL lease rows', async () => {
    const url = database.url;
    const opened = new Map<PostgresLease, string>();
    return {
      async open() {
        const applicationName = `diyml-lease-test-${randomUUID()}`;
        const lease = new PostgresLease(url, applicationName);
        opened.set(lease, applicationName);
        return lease;
      },
      crash: (lease) => endSessionOf(url, opened.get(lease as PostgresLease)!).then(() => undefined),
      async close() {
        for (const lease of opened.keys()) await lease.close();
      },
    };
  });

  describe('PostgreSQL lease rows', () => {
    const opened: PostgresLease[] = [];
    const open = (applicationName = `diyml-lease-test-${randomUUID()}`) => {
      const lease = new PostgresLease(database.url, applicationName);
      opened.push(lease);
      return lease;
    };
    const rowsNamed = async (names: string[]) =>
      (
        await withPostgresClient(database.url, (client) =>
          client.query<{ name: string; position: string }>(
            'SELECT name, position FROM leases WHERE name = ANY($1) ORDER BY name',
            [names],
          ),
        )
      ).rows.map((row) => ({ name: row.name, position: Number(row.position) }));
    afterEach(async () => {
      for (const lease of opened.splice(0)) await lease.close();
    });

    it('frees the leases of a process whose session ended at once, long before their ttl', async () => {
      const deadName = `diyml-lease-test-${randomUUID()}`;
      const [dead, survivor] = [open(deadName), open()];
      const name = `reactor-${randomUUID()}`;
      const held = (await dead.tryAcquire(name, 600_000))!;
      await held.advance(3);
      expect(await survivor.tryAcquire(name, 600_000)).toBeUndefined();

      await endSessionOf(database.url, deadName);
      const taken = await survivor.tryAcquire(name, 600_000);
      expect(await taken?.position()).toBe(3);
    });

    it('deletes the rows that hold no position once given up, and at start those whose holder died', async () => {
      const [reactor, upload, deadUpload] = ['reactor', 'upload-process:own', 'upload-process:dead'].map(
        (name) => `${name}-${randomUUID()}`,
      );
      const deadName = `diyml-lease-test-${randomUUID()}`;
      const dead = open(deadName);
      await dead.tryAcquire(deadUpload, 600_000);
      const living = open();
      const reactorLease = (await living.tryAcquire(reactor, 600_000))!;
      await reactorLease.advance(42);
      await (await living.tryAcquire(upload, 600_000))!.release();
      expect(await rowsNamed([reactor, upload, deadUpload])).toEqual([
        { name: reactor, position: 42 },
        { name: deadUpload, position: -1 },
      ]);

      await endSessionOf(database.url, deadName);
      const started = open();
      expect(await started.tryAcquire(reactor, 600_000)).toBeUndefined();
      expect(await rowsNamed([reactor, deadUpload])).toEqual([{ name: reactor, position: 42 }]);
      await living.close();
      expect(await rowsNamed([reactor])).toEqual([{ name: reactor, position: 42 }]);
      expect(await (await started.tryAcquire(reactor, 600_000))!.position()).toBe(42);
    });

    it('goes on from the positions recorded while leases were advisory locks', async () => {
      const older = await createPostgresTestDatabase(server);
      try {
        await withPostgresClient(older.url, (client) =>
          client.query(`CREATE TABLE lease_positions (name text PRIMARY KEY, position bigint NOT NULL);
                        INSERT INTO lease_positions VALUES ('reactor-projections', 1234)`),
        );
        const lease = new PostgresLease(older.url);
        const held = (await lease.tryAcquire('reactor-projections', 10_000))!;
        expect(await held.position()).toBe(1234);
        await lease.close();
      } finally {
        await older.drop();
      }
    });
  });
} else {
  it.skip('Lease contract: PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}
