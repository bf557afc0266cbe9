import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPostgresPool, migrate, type Settings } from '@diyml/core';

const newSecret = () => randomBytes(48).toString('base64url');

const MIGRATIONS = [
  {
    version: 1,
    description: 'secrets every api of the installation shares',
    sql: `CREATE TABLE shared_secrets (name text PRIMARY KEY, value text NOT NULL)`,
  },
];

/**
 * JWT_SECRET; else one secret every api of the installation signs with: on PostgreSQL created by the first api and
 * kept in the database (a token from one replica is valid on the others, and a backup of the database keeps it), in
 * the embedded mode created once under DATA_DIR. EventStoreDB and MongoDB keep no such secret: JWT_SECRET is needed.
 */
export async function resolveJwtSecret(settings: Settings): Promise<string> {
  if (settings.JWT_SECRET) return settings.JWT_SECRET;
  const file = join(settings.DATA_DIR, 'jwt-secret');
  // An api that made its own before keeps its sessions: the first to start offers its secret to the others.
  if (settings.POSTGRES_URL)
    return sharedPostgresSecret(
      settings.POSTGRES_URL,
      'jwt',
      existsSync(file) ? readFileSync(file, 'utf8').trim() : null,
    );
  if (settings.EVENTSTORE_CONNECTION_STRING || settings.MONGODB_URI) {
    throw new Error(
      'JWT_SECRET is not set: on EventStoreDB or MongoDB every api must sign login tokens with the same secret; ' +
        'set JWT_SECRET to the same random string of at least 32 characters on each api.',
    );
  }
  if (!existsSync(file)) {
    mkdirSync(settings.DATA_DIR, { recursive: true });
    writeFileSync(file, newSecret(), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

/** The secret `name` in the database, `offered` or made by whichever api asks first (the others read the same one). */
async function sharedPostgresSecret(url: string, name: string, offered: string | null): Promise<string> {
  const pool = createPostgresPool(url, { max: 1, applicationName: 'diyml-shared-secrets' });
  try {
    await migrate(pool, 'shared-secrets', MIGRATIONS);
    await pool.query('INSERT INTO shared_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
      name,
      offered ?? newSecret(),
    ]);
    const { rows } = await pool.query<{ value: string }>('SELECT value FROM shared_secrets WHERE name = $1', [name]);
    return rows[0].value;
  } finally {
    await pool.end();
  }
}
