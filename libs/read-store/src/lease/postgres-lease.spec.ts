import { it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { leaseContract } from '../testing/lease.contract.js';
import { PostgresLease } from './postgres-lease.js';

const url = process.env.POSTGRES_URL || undefined;
if (!url && process.env.REQUIRE_POSTGRES === '1') {
  throw new Error('REQUIRE_POSTGRES=1 but POSTGRES_URL is not set: point it at a PostgreSQL server.');
}

if (url) {
  leaseContract('PostgreSQL advisory locks', async () => {
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
          await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [opened.get(lease as PostgresLease)]);
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
