import { afterAll, beforeAll } from 'vitest';
import { createPostgresTestDatabase, type PostgresTestDatabase } from './postgres-test-database.js';

/**
 * A fresh database on `serverUrl` for the calling test file: created before its tests, dropped after them.
 * Read `url` inside tests (it is set once the database exists).
 */
export function postgresDatabaseForThisFile(serverUrl: string): { readonly url: string } {
  let database: PostgresTestDatabase | undefined;
  beforeAll(async () => {
    database = await createPostgresTestDatabase(serverUrl);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return {
    get url() {
      if (!database) throw new Error('the test database is created in beforeAll: read its url inside a test');
      return database.url;
    },
  };
}
