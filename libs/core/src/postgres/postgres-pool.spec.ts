import { describe, expect, it } from 'vitest';
import { postgresDatabaseForThisFile } from '../testing/postgres-database-for-this-file.js';
import { postgresTestServer } from '../testing/postgres-test-database.js';
import { createPostgresPool, inTransaction } from './postgres-pool.js';

const server = postgresTestServer();

if (server) {
  const database = postgresDatabaseForThisFile(server);

  describe('inTransaction on PostgreSQL', () => {
    it('fails the transaction whose connection the server drops between two queries, and the pool goes on', async () => {
      const pool = createPostgresPool(database.url, { max: 2, applicationName: 'diyml-pool-test' });
      const killer = createPostgresPool(database.url, { max: 1, applicationName: 'diyml-pool-test-killer' });
      try {
        const cut = inTransaction(pool, async (client) => {
          const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          // Listen before the kill: the connection may end before the killer's own answer is read.
          const ended = new Promise((resolve) => client.once('end', resolve));
          await killer.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
          // The connection ends while no query of it is running (e.g. the transaction's own work between queries).
          await ended;
          await client.query('SELECT 1');
        });
        await expect(cut).rejects.toThrow(/terminat|not queryable/i);
        // The broken connection was not handed back: the next transactions get working ones.
        for (let i = 0; i < 3; i += 1) {
          expect(await inTransaction(pool, async (client) => (await client.query('SELECT 1 AS one')).rows)).toEqual([
            { one: 1 },
          ]);
        }
      } finally {
        await Promise.all([pool.end(), killer.end()]);
      }
    });
  });
} else {
  it.skip('inTransaction on PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}
