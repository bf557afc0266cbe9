import { it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { postgresTestServer } from '@diyml/core/testing/postgres-test-database.js';
import { leaseContract } from '../testing/lease.contract.js';
import { PostgresLease } from './postgres-lease.js';

const server = postgresTestServer();

if (server) {
  const database = postgresDatabaseForThisFile(server);

  leaseContract('PostgreSQL advisory locks', async () => {
    const url = database.url;
    const opened = new Map<PostgresLease, string>();
    return {
      async open() {
        const applicationName = `diyml-lease-test-${randomUUID()}`;
        const lease = new PostgresLease(url, applicationName);
        opened.set(lease, applicationName);
        return lease;
      },
      // The server ends the dead process's session, which frees its advisory locks.
      async crash(lease) {
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        try {
          await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
            opened.get(lease as PostgresLease),
          ]);
        } finally {
          await admin.end();
        }
      },
      async close() {
        for (const lease of opened.keys()) await lease.close();
      },
    };
  });
} else {
  it.skip('Lease contract: PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}
