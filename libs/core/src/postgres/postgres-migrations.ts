import { Logger } from '@nestjs/common';
import type pg from 'pg';
import { AdvisoryLock, DIYML_LOCK_SPACE } from './advisory-locks.js';
import { withConnection } from './postgres-pool.js';

/** One step of a component's schema. Versions start at 1 and only grow; a released migration never changes. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * Brings `component`'s schema up to its newest migration, each in its own transaction, recorded in
 * `schema_migrations`. Applied ones are skipped, so it runs at every start; the migrations advisory lock makes
 * a second process starting at the same time wait, then find nothing left to do.
 */
export async function migrate(pool: pg.Pool, component: string, migrations: readonly Migration[]): Promise<void> {
  const logger = new Logger('Migrations');
  await withConnection(pool, async (client) => {
    await client.query('SELECT pg_advisory_lock($1, $2)', [DIYML_LOCK_SPACE, AdvisoryLock.migrations]);
    try {
      await client.query(`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          component text NOT NULL,
          version integer NOT NULL,
          description text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (component, version)
        )`);
      const { rows } = await client.query<{ version: number }>(
        'SELECT version FROM schema_migrations WHERE component = $1',
        [component],
      );
      const applied = new Set(rows.map((row) => row.version));
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applied.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (component, version, description) VALUES ($1, $2, $3)', [
            component,
            migration.version,
            migration.description,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(
            `Migration ${component} ${migration.version} (${migration.description}) failed: ${String(error)}`,
            { cause: error },
          );
        }
        logger.log(`Applied ${component} migration ${migration.version}: ${migration.description}`);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [DIYML_LOCK_SPACE, AdvisoryLock.migrations]);
    }
  });
}
