import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface PostgresTestDatabase {
  /** Connection string of the fresh database. */
  readonly url: string;
  /** Drops the database, closing connections still open on it. */
  drop(): Promise<void>;
}

/**
 * The server the PostgreSQL suites run against: POSTGRES_URL, or undefined to skip them. With REQUIRE_POSTGRES=1
 * (set by .ci/run) a missing POSTGRES_URL is an error, so CI cannot pass by skipping.
 */
export function postgresTestServer(): string | undefined {
  const url = process.env.POSTGRES_URL || undefined;
  if (!url && process.env.REQUIRE_POSTGRES === '1') {
    throw new Error('REQUIRE_POSTGRES=1 but POSTGRES_URL is not set: point it at a PostgreSQL server.');
  }
  return url;
}

/** Creates a database with a unique name on the server of `serverUrl`, for one test file. */
export async function createPostgresTestDatabase(serverUrl: string): Promise<PostgresTestDatabase> {
  const name = `diyml_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
