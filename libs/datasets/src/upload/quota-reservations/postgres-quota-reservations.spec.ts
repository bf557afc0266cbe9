import { it } from 'vitest';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { postgresTestServer } from '@diyml/core/testing/postgres-test-database.js';
import { quotaReservationsContract } from '../../testing/quota-reservations.contract.js';
import { PostgresQuotaReservations } from './postgres-quota-reservations.js';

const server = postgresTestServer();

if (server) {
  const database = postgresDatabaseForThisFile(server);

  quotaReservationsContract('PostgreSQL', async () => {
    const opened: PostgresQuotaReservations[] = [];
    return {
      async open() {
        const reservations = new PostgresQuotaReservations(database.url);
        opened.push(reservations);
        return reservations;
      },
      async close() {
        for (const reservations of opened) await reservations.close();
      },
    };
  });
} else {
  it.skip('QuotaReservations contract: PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}
