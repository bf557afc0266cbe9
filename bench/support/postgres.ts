import { createPostgresTestDatabase, type PostgresTestDatabase } from '@diyml/core/testing/postgres-test-database.js';

/** `--postgres`: measure the PostgreSQL mode instead of the embedded one. */
export function isPostgresMode(): boolean {
  return process.argv.includes('--postgres');
}

/** A fresh database on POSTGRES_URL's server, dropped by the caller. */
export function benchDatabase(): Promise<PostgresTestDatabase> {
  const server = process.env.POSTGRES_URL;
  if (!server) throw new Error('--postgres needs POSTGRES_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres');
  return createPostgresTestDatabase(server);
}
