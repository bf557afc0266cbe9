import { Logger } from '@nestjs/common';
import { createRequire } from 'node:module';
import type pg from 'pg';

let driver: typeof pg | undefined;

/**
 * node-postgres, loaded the first time a PostgreSQL adapter needs it instead of when @diyml/core is imported: the
 * other modes never use it, and loading it cost every process and every test worker ~50 modules.
 */
export function postgresDriver(): typeof pg {
  driver ??= createRequire(import.meta.url)('pg') as typeof pg;
  return driver;
}

export interface PostgresPoolOptions {
  /** Most connections this pool opens; every adapter has its own pool, and servers allow 100 by default. */
  readonly max: number;
  /** Shown in pg_stat_activity, to tell the adapters' connections apart. */
  readonly applicationName: string;
  /**
   * false: a commit answers before its WAL reaches the disk. Only for data that can be rebuilt (read models):
   * a server crash then loses the last commits in order, never one without those before it.
   */
  readonly synchronousCommit?: boolean;
}

/**
 * A node-postgres pool for one adapter. An idle connection that the server drops (restart, failover) is
 * logged and replaced on the next query instead of crashing the process.
 */
export function createPostgresPool(url: string, options: PostgresPoolOptions): pg.Pool {
  const pool = new (postgresDriver().Pool)({
    connectionString: url,
    max: options.max,
    application_name: options.applicationName,
    connectionTimeoutMillis: 10_000,
    ...(options.synchronousCommit === false ? { options: '-c synchronous_commit=off' } : {}),
  });
  const logger = new Logger(options.applicationName);
  pool.on('error', (error) => logger.warn(`An idle PostgreSQL connection failed: ${error.message}`));
  return pool;
}

/**
 * Runs `work` on one connection taken from the pool. A taken connection has no listener of the pool's: when the
 * server drops it between two queries (an outage, a restart), node-postgres emits 'error' on it, which unheard ends
 * the process. Here the drop only fails the query running or the next one, and the broken connection is discarded
 * instead of being handed to the next caller.
 */
export async function withConnection<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => (broken ??= error);
  client.on('error', onError);
  try {
    return await work(client);
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** Runs `work` in a transaction on one connection of the pool; rolls back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withConnection(pool, async (client) => {
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  });
}
