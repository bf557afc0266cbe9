import type { StartupDependency } from '../config/startup-connect.js';
import { postgresDriver } from './postgres-pool.js';

/**
 * SQLSTATEs no wait fixes: a wrong password (28P01), a role that does not exist or may not connect (28000), a
 * database that does not exist (3D000).
 */
const PERMANENT_SQLSTATES = new Set(['28P01', '28000', '3D000']);

/** PostgreSQL at POSTGRES_URL accepts a connection and answers a query. */
export function postgresStartupDependency(url: string): StartupDependency {
  return {
    setting: 'POSTGRES_URL',
    url,
    async connect(timeoutMs) {
      const client = new (postgresDriver().Client)({ connectionString: url, connectionTimeoutMillis: timeoutMs });
      client.on('error', () => {}); // a connection dropped after the query: the check already answered
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => {});
      }
    },
    isPermanent: (error) =>
      error instanceof TypeError || PERMANENT_SQLSTATES.has(String((error as { code?: unknown }).code)),
  };
}
