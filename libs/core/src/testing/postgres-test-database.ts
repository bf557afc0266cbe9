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

/** Runs `work` on a connection of its own to `url`, closed after it. */
export async function withPostgresClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a database with a unique name on the server of `serverUrl`, for one test file. */
export async function createPostgresTestDatabase(serverUrl: string): Promise<PostgresTestDatabase> {
  const name = `diyml_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withPostgresClient(serverUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await withPostgresClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
