import { Logger } from '@nestjs/common';
import type pg from 'pg';
import { postgresDriver } from '@diyml/core';
import { type HeldLease, Lease, leaseLost } from './lease.port.js';

interface UnwrittenPosition {
  readonly client: pg.Client;
  position: number;
  readonly waiting: { resolve: () => void; reject: (error: unknown) => void }[];
}

/** First key of the advisory locks taken for leases, apart from diyml's other advisory locks. */
export const LEASE_LOCK_SPACE = 0x6c_65_61; // 'lea'

/**
 * Leases as PostgreSQL session advisory locks (pg_try_advisory_lock) on one dedicated connection: the server
 * frees them when the connection ends, so a process that dies gives its leases up at once. Positions are
 * written on that same connection, so a holder whose connection died cannot move them. Its queries go one after
 * the other (`query`): pg deprecates a query sent while the client runs another, and pg 9 refuses it. So that
 * the reactors of a process do not wait for each other's position writes one by one, the positions advanced
 * while one write is in flight go together in the next (one statement, the newest position per lease), and
 * their commits do not wait for the disk: a position lost with the server only makes its reactor react again to
 * the last events, as it does when its process dies between a reaction and the write of its position.
 */
export class PostgresLease extends Lease {
  private readonly logger = new Logger(PostgresLease.name);
  private connection?: Promise<pg.Client>;
  /** The connected session, once connected; unset when it ended. */
  private current?: pg.Client;
  private readonly held = new Set<string>();
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
    void ttlMs; // held for as long as the connection lives
    if (this.held.has(name)) return undefined; // advisory locks are re-entrant within one session
    const client = await this.connect();
    const { rows } = await this.query<{ taken: boolean }>(
      client,
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS taken',
      [LEASE_LOCK_SPACE, name],
    );
    if (!rows[0].taken) return undefined;
    this.held.add(name);
    let released = false;
    /** The last position write asked for: the lock is given up after it, so it cannot land under the next holder. */
    let lastWrite: Promise<unknown> = Promise.resolve();
    const alive = () => !released && this.connection !== undefined && this.current === client;
    return {
      name,
      position: async () => {
        const result = await this.query<{ position: string }>(
          client,

          'SELECT position FROM lease_positions WHERE name = $1',
          [name],
        );
        return result.rows.length ? Number(result.rows[0].position) : -1;
      },
      advance: async (position) => {
        if (!alive()) throw leaseLost(name);
        const written = new Promise<void>((resolve, reject) => {
          const unwritten = this.unwrittenPositions.get(name) ?? { client, position, waiting: [] };
          unwritten.position = position;
          unwritten.waiting.push({ resolve, reject });
          this.unwrittenPositions.set(name, unwritten);
        });
        lastWrite = written.catch(() => undefined);
        void this.writePositions();
        try {
          await written;
        } catch {
          // The session may be gone, and its lock with it: stop, and let the owner try to take the lease again.
          this.held.delete(name);
          released = true;
          throw leaseLost(name);
        }
      },
      renew: async () => {
        if (!alive()) return false;
        try {
          await this.query(client, 'SELECT 1');
          return true;
        } catch {
          return false;
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        this.held.delete(name);
        await lastWrite;
        if (this.current === client)
          await this.query(client, 'SELECT pg_advisory_unlock($1, hashtext($2))', [LEASE_LOCK_SPACE, name]);
      },
    };
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.current = undefined;
    this.held.clear();
    if (connection) await (await connection).end(); // ending the session frees its advisory locks
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
          await this.query(
            client,
            `INSERT INTO lease_positions (name, position) SELECT * FROM unnest($1::text[], $2::bigint[])
             ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
            [batch.map(([name]) => name), batch.map(([, unwritten]) => unwritten.position)],
          );
          for (const [, unwritten] of batch) for (const waiting of unwritten.waiting) waiting.resolve();
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

  /** The session holding the locks; after it died, the next acquisition opens a new one. */
  private connect(): Promise<pg.Client> {
    this.connection ??= (async () => {
      const client = new (postgresDriver().Client)({
        connectionString: this.url,
        application_name: this.applicationName,
      });
      const lost = (reason: string) => {
        if (this.current !== client) return;
        this.logger.warn(`The lease connection ended (${reason}); its leases are free for other processes`);
        this.current = undefined;
        this.connection = undefined;
        this.held.clear();
      };
      client.on('error', (error) => lost(error.message));
      client.on('end', () => lost('closed'));
      try {
        await client.connect();
        // Position writes only: see the class comment.
        await client.query('SET synchronous_commit = off');
        // Serialised, so processes starting together do not race to create the table.
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1, 0)', [LEASE_LOCK_SPACE]);
        await client.query(
          'CREATE TABLE IF NOT EXISTS lease_positions (name text PRIMARY KEY, position bigint NOT NULL)',
        );
        await client.query('COMMIT');
      } catch (error) {
        this.connection = undefined;
        await client.end().catch(() => {});
        throw error;
      }
      this.current = client;
      return client;
    })();
    return this.connection;
  }
}
