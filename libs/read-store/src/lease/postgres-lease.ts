import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createPostgresPool, migrate, postgresDriver } from '@diyml/core';
import { type HeldLease, Lease, leaseLost } from './lease.port.js';
import { LEASE_MIGRATIONS } from './postgres-lease.migrations.js';

interface UnwrittenPosition {
  readonly client: pg.Client;
  readonly holder: string;
  position: number;
  readonly waiting: { resolve: () => void; reject: (error: unknown) => void }[];
}

/**
 * Whether the lease row `l` is free to take: given up, lapsed by the server's clock (the apis' clocks need not
 * agree), or held by a session that ended (its process died: no need to wait for the expiry). A stalled process
 * keeps its session, so only the expiry frees its leases; so does a pid the server gave to a new session meanwhile.
 */
const FREE = `(l.holder IS NULL OR l.expires_at <= now()
  OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.holder_pid))`;

/** Still held by holder $2: a holder whose lease lapsed changes nothing, even when nobody took it over yet. */
const HELD = 'name = $1 AND holder = $2 AND expires_at > now()';

/**
 * Gives up the leases matched by `which` ($1, $2 as given): a row that never recorded a position says nothing once
 * given up (a new row starts at -1 just the same) and is deleted, so the upload leases, named anew by every
 * process, do not pile up; the others keep their position for the next holder.
 */
const giveUp = (which: string) => `WITH kept AS (
    UPDATE leases SET holder = NULL, holder_pid = NULL WHERE ${which} AND position <> -1 RETURNING 1
  ) DELETE FROM leases WHERE ${which} AND position = -1`;

/**
 * Leases as rows of the `leases` table (name, holder, holder's session, expiry, position), each change one
 * statement conditioned on the holder and the expiry (compare-and-set), so two processes cannot both take a lease
 * and a holder that lost it cannot renew it or move its position. A holder that stops renewing (stalled,
 * swapped out, a long GC pause) loses its leases after their ttl, as with Redis; one whose process died loses
 * them at once, its session being gone. All of it runs on one dedicated session, whose backend pid names the
 * holder. Its queries go one after the other (`query`): pg deprecates a query sent while the client runs another,
 * and pg 9 refuses it. So that the reactors of a process do not wait for each other's position writes one by one,
 * the positions advanced while one write is in flight go together in the next (one statement, the newest position
 * per lease), and commits do not wait for the disk: a position lost with the server only makes its reactor react
 * again to the last events, as it does when its process dies between a reaction and the write of its position,
 * and the server losing a lease taken ends the sessions holding it anyway.
 */
export class PostgresLease extends Lease {
  private readonly logger = new Logger(PostgresLease.name);
  private connection?: Promise<pg.Client>;
  /** The connected session, once connected; unset when it ended. */
  private current?: pg.Client;
  private migrated?: Promise<void>;
  /** The last query sent on the session: the next one waits for it. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Positions advanced and not written yet, by lease name: the newest one, and the advances waiting for it. */
  private unwrittenPositions = new Map<string, UnwrittenPosition>();
  private writingPositions = false;

  constructor(
    private readonly url: string,
    private readonly applicationName = 'diyml-lease',
  ) {
    super();
  }

  async tryAcquire(name: string, ttlMs: number): Promise<HeldLease | undefined> {
    const client = await this.connect();
    const holder = randomUUID();
    const taken = await this.query(
      client,
      `INSERT INTO leases AS l (name, holder, holder_pid, expires_at)
       VALUES ($1, $2, pg_backend_pid(), now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE
         SET holder = excluded.holder, holder_pid = excluded.holder_pid, expires_at = excluded.expires_at
         WHERE ${FREE}`,
      [name, holder, ttlMs],
    );
    if (taken.rowCount !== 1) return undefined;
    let released = false;
    /** The last position write asked for: the lease is given up after it, so it cannot land under the next holder. */
    let lastWrite: Promise<unknown> = Promise.resolve();
    const alive = () => !released && this.connection !== undefined && this.current === client;
    return {
      name,
      position: async () => {
        const result = await this.query<{ position: string }>(client, 'SELECT position FROM leases WHERE name = $1', [
          name,
        ]);
        return result.rows.length ? Number(result.rows[0].position) : -1;
      },
      advance: async (position) => {
        if (!alive()) throw leaseLost(name);
        const written = new Promise<void>((resolve, reject) => {
          const unwritten = this.unwrittenPositions.get(name) ?? { client, holder, position, waiting: [] };
          unwritten.position = position;
          unwritten.waiting.push({ resolve, reject });
          this.unwrittenPositions.set(name, unwritten);
        });
        lastWrite = written.catch(() => undefined);
        void this.writePositions();
        try {
          await written;
        } catch {
          // Lapsed and maybe taken over, or the session is gone: stop, and let the owner try to take it again.
          released = true;
          throw leaseLost(name);
        }
      },
      renew: async () => {
        if (!alive()) return false;
        try {
          const renewed = await this.query(
            client,
            `UPDATE leases SET expires_at = now() + $3 * interval '1 millisecond' WHERE ${HELD}`,
            [name, holder, ttlMs],
          );
          return renewed.rowCount === 1;
        } catch {
          return false;
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        await lastWrite;
        if (this.current === client) await this.query(client, giveUp('name = $1 AND holder = $2'), [name, holder]);
      },
    };
  }

  async close(): Promise<void> {
    const connection = this.connection;
    const client = this.current;
    this.connection = undefined;
    this.current = undefined;
    if (!connection) return;
    // Ending the session would free the leases too; giving them up first also deletes the rows without a position.
    if (client) await this.query(client, giveUp('holder_pid = pg_backend_pid()')).catch(() => undefined);
    await (await connection.catch(() => undefined))?.end();
  }

  /** Writes the unwritten positions, those of one session per statement, until none is left. */
  private async writePositions(): Promise<void> {
    if (this.writingPositions) return;
    this.writingPositions = true;
    try {
      while (this.unwrittenPositions.size > 0) {
        const client = this.unwrittenPositions.values().next().value!.client;
        const batch = [...this.unwrittenPositions].filter(([, unwritten]) => unwritten.client === client);
        for (const [name] of batch) this.unwrittenPositions.delete(name);
        try {
          const { rows } = await this.query<{ name: string }>(
            client,
            `UPDATE leases l SET position = v.position
             FROM unnest($1::text[], $2::uuid[], $3::bigint[]) AS v(name, holder, position)
             WHERE l.name = v.name AND l.holder = v.holder AND l.expires_at > now()
             RETURNING l.name`,
            [
              batch.map(([name]) => name),
              batch.map(([, unwritten]) => unwritten.holder),
              batch.map(([, unwritten]) => unwritten.position),
            ],
          );
          const written = new Set(rows.map((row) => row.name));
          for (const [name, unwritten] of batch)
            for (const waiting of unwritten.waiting)
              if (written.has(name)) waiting.resolve();
              else waiting.reject(leaseLost(name));
        } catch (error) {
          for (const [, unwritten] of batch) for (const waiting of unwritten.waiting) waiting.reject(error);
        }
      }
    } finally {
      this.writingPositions = false;
    }
  }

  private query<Row extends pg.QueryResultRow>(
    client: pg.Client,
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>> {
    const result = this.queue.then(() => client.query<Row>(text, values));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Creates or updates the table once per instance, and deletes the position-less rows that dead holders left. */
  private migrate(): Promise<void> {
    this.migrated ??= (async () => {
      const pool = createPostgresPool(this.url, { max: 1, applicationName: `${this.applicationName}-migrations` });
      try {
        await migrate(pool, 'leases', LEASE_MIGRATIONS);
        await pool.query(`DELETE FROM leases l WHERE l.position = -1 AND ${FREE}`);
      } finally {
        await pool.end();
      }
    })();
    const migrating = this.migrated;
    migrating.catch(() => {
      if (this.migrated === migrating) this.migrated = undefined;
    });
    return migrating;
  }

  /** The session naming this process's holders; after it died, the next acquisition opens a new one. */
  private connect(): Promise<pg.Client> {
    this.connection ??= (async () => {
      await this.migrate();
      const client = new (postgresDriver().Client)({
        connectionString: this.url,
        application_name: this.applicationName,
      });
      const lost = (reason: string) => {
        if (this.current !== client) return;
        this.logger.warn(`The lease connection ended (${reason}); its leases are free for other processes`);
        this.current = undefined;
        this.connection = undefined;
      };
      client.on('error', (error) => lost(error.message));
      client.on('end', () => lost('closed'));
      try {
        await client.connect();
        // See the class comment.
        await client.query('SET synchronous_commit = off');
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      this.current = client;
      return client;
    })();
    const connecting = this.connection;
    connecting.catch(() => {
      if (this.connection === connecting) this.connection = undefined;
    });
    return connecting;
  }
}
