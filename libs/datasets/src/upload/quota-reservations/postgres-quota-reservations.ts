import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createPostgresPool, inTransaction, migrate } from '@diyml/core';
import { type HeldReservation, type InFlight, OneAtATime, QuotaReservations } from './quota-reservations.port.js';

/** First key of the advisory locks taken for the checks of the image quota, apart from diyml's other ones. */
export const QUOTA_LOCK_SPACE = 0x71_75_6f; // 'quo'

const MIGRATIONS = [
  {
    version: 1,
    description: 'image quota reservations of requests in flight',
    sql: `CREATE TABLE image_quota_reservations (
            id uuid NOT NULL,
            key text NOT NULL,
            adding integer NOT NULL,
            expires_at timestamptz NOT NULL,
            PRIMARY KEY (id, key)
          );
          CREATE INDEX image_quota_reservations_key ON image_quota_reservations (key, expires_at);`,
  },
];

/**
 * Reservations in a PostgreSQL table (whenever POSTGRES_URL is set), shared by every api on the database. A check
 * runs in a transaction holding an advisory transaction lock of its owner, so the checks of one owner run one at a time
 * across processes, and the server frees the lock with the session if the process dies mid-check. Expiries are
 * the server's time, so the replicas' clocks need not agree.
 */
export class PostgresQuotaReservations extends QuotaReservations {
  private pool?: Promise<pg.Pool>;
  private readonly turns = new OneAtATime();

  constructor(private readonly url: string) {
    super();
  }

  reserve(
    owner: string,
    keys: readonly string[],
    adding: number,
    ttlMs: number,
    check: (inFlight: InFlight) => Promise<void>,
  ): Promise<HeldReservation> {
    return this.turns.run(owner, async () => {
      const pool = await this.connect();
      const id = randomUUID();
      await inTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [QUOTA_LOCK_SPACE, owner]);
        await client.query(
          'DELETE FROM image_quota_reservations WHERE key = ANY($1) AND expires_at <= clock_timestamp()',
          [keys],
        );
        const { rows } = await client.query<{ key: string; adding: string }>(
          `SELECT key, sum(adding) AS adding FROM image_quota_reservations
           WHERE key = ANY($1) AND expires_at > clock_timestamp() GROUP BY key HAVING sum(adding) > 0`,
          [keys],
        );
        await check(new Map(rows.map((row) => [row.key, Number(row.adding)])));
        await client.query(
          `INSERT INTO image_quota_reservations (id, key, adding, expires_at)
           SELECT $1, key, $3, clock_timestamp() + $4 * interval '1 millisecond' FROM unnest($2::text[]) AS key`,
          [id, keys, adding, ttlMs],
        );
      });
      return {
        renew: async () => {
          const { rowCount } = await pool.query(
            `UPDATE image_quota_reservations SET expires_at = clock_timestamp() + $2 * interval '1 millisecond'
             WHERE id = $1 AND expires_at > clock_timestamp()`,
            [id, ttlMs],
          );
          return (rowCount ?? 0) > 0;
        },
        release: async () => {
          await pool.query('DELETE FROM image_quota_reservations WHERE id = $1', [id]);
        },
      };
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await pool.catch(() => undefined))?.end();
  }

  /** Connects at the first check (a process that never takes images in opens nothing) and migrates the table. */
  private connect(): Promise<pg.Pool> {
    this.pool ??= (async () => {
      const pool = createPostgresPool(this.url, { max: 4, applicationName: 'diyml-image-quota' });
      try {
        await migrate(pool, 'image-quota', MIGRATIONS);
      } catch (error) {
        await pool.end();
        throw error;
      }
      return pool;
    })();
    const connecting = this.pool;
    connecting.catch(() => {
      if (this.pool === connecting) this.pool = undefined;
    });
    return connecting;
  }
}
