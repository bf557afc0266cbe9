import { Logger } from '@nestjs/common';
import pg from 'pg';
import { createPostgresPool, migrate, type Page } from '@diyml/core';
import { decodeCursor, encodeCursor } from '../cursor.js';
import {
  type Checkpoint,
  CheckpointStore,
  type DocumentUpdate,
  type FindQuery,
  type ReadModelCollection,
  ReadStore,
  type Where,
  writesClaimedElsewhere,
} from '../read-store.port.js';
import { READ_STORE_MIGRATIONS } from './postgres-read-store.migrations.js';

/** Documents whose last written version each process remembers, to update them in one statement. */
const KNOWN_DOCUMENTS = 20_000;
/** Document changes held back at most before they are written without waiting for a flush. */
const MAX_HELD_WRITES = 1000;
/** How long a change waits for others to join it when nothing asks for a flush. */
const HOLD_MS = 20;
/** Tries of one batch of document writes that a deadlock with another replica's batch aborted. */
const DEADLOCK_TRIES = 3;

/**
 * A WHERE clause over `document` and its parameters, numbered from `firstParameter`. A scalar value also matches an
 * array field holding it (as MongoDB and the in-memory store match); both forms are containments the GIN index serves.
 */
function toCondition<T>(where: Where<T> | undefined, firstParameter: number): { sql: string; values: unknown[] } {
  const clauses = ['document IS NOT NULL'];
  const values: unknown[] = [];
  const parameter = (value: unknown) => {
    values.push(value);
    return `$${firstParameter + values.length - 1}`;
  };
  for (const [field, value] of Object.entries(where ?? {})) {
    if (value === null || value === undefined) {
      clauses.push(`coalesce(document -> ${parameter(field)}, 'null'::jsonb) = 'null'::jsonb`);
    } else if (typeof value === 'object') {
      clauses.push(`document @> ${parameter(JSON.stringify({ [field]: value }))}::jsonb`);
    } else {
      const asValue = parameter(JSON.stringify({ [field]: value }));
      const asElement = parameter(JSON.stringify({ [field]: [value] }));
      clauses.push(`(document @> ${asValue}::jsonb OR document @> ${asElement}::jsonb)`);
    }
  }
  return { sql: clauses.join(' AND '), values };
}

/** A document as this process last wrote it; null: deleted. */
interface Known<T> {
  position: number;
  document: T | null;
}

/** A document change held back to be written with others: a compare-and-set on `base`'s position, or an insert. */
interface HeldWrite {
  readonly collection: string;
  readonly id: string;
  /** The version the table holds as far as this process knows; undefined: none (an insert). */
  base: Known<unknown> | undefined;
  latest: Known<unknown>;
  /** Every change since `base`, applied again on what the table holds when the compare-and-set fails. */
  readonly updates: { position: number; update: DocumentUpdate<unknown> }[];
}

interface StoredRow {
  position: string;
  document: unknown;
}

const documentKey = (collection: string, id: string) => `${collection}\u0000${id}`;

/**
 * Holds projections' document changes back for a moment and writes them together, one statement for many
 * (catching up thousands of events no longer costs a round trip per document). Every read, checkpoint and
 * close writes them first, so nothing reads around them, and a checkpoint never gets ahead of its documents.
 * Each write is still a compare-and-set on the position this process last saw: one that another replica got
 * to first is read again and its changes applied again on top, as a single apply would.
 */
class DocumentWrites {
  private readonly logger = new Logger('PostgresReadStore');
  private held = new Map<string, HeldWrite>();
  /** The batch being written: not in the table yet, no longer held. */
  private inFlight = new Map<string, HeldWrite>();
  private writing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  /** The fencing token this store claimed; undefined: it never claimed, and its writes go unchecked. */
  private token?: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly known: KnownDocuments,
  ) {}

  /** This process's change of a document that may not be in the table yet. */
  unwritten(collection: string, id: string): Known<unknown> | undefined {
    const key = documentKey(collection, id);
    return (this.held.get(key) ?? this.inFlight.get(key))?.latest;
  }

  /** The newest version this process has of a document, held back or written. */
  latest(collection: string, id: string): Known<unknown> | undefined {
    return this.held.get(documentKey(collection, id))?.latest ?? this.known.of(collection).get(id);
  }

  async hold(
    collection: string,
    id: string,
    position: number,
    update: DocumentUpdate<unknown>,
    next: unknown,
  ): Promise<void> {
    const key = documentKey(collection, id);
    // A copy as a read would return it (and safe from later changes to the projection's object).
    const latest = { position, document: next === null ? null : (JSON.parse(JSON.stringify(next)) as unknown) };
    const entry = this.held.get(key) ?? {
      collection,
      id,
      base: this.known.of(collection).get(id),
      latest,
      updates: [],
    };
    entry.latest = latest;
    entry.updates.push({ position, update });
    this.held.set(key, entry);
    this.known.of(collection).set(id, latest);
    if (this.held.size >= MAX_HELD_WRITES) return this.flush();
    this.scheduleFlush();
  }

  /** Writes what is held after HOLD_MS; a failed write is held again and tried again, not left for a later change. */
  private scheduleFlush(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error: unknown) => {
        if (isWritesClaimedElsewhere(error)) return; // dropped: the next read or checkpoint tells the runner
        this.logger.warn(`Writing held document changes failed, kept for the next try: ${String(error)}`);
        this.scheduleFlush();
      });
    }, HOLD_MS).unref();
  }

  /** Writes what is held; one batch at a time, in order, so a later batch never overtakes an earlier one. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.writing.then(() => this.writeHeld());
    this.writing = run.catch(() => {});
    return run;
  }

  private async writeHeld(): Promise<void> {
    if (this.held.size === 0) return;
    this.inFlight = this.held;
    this.held = new Map();
    const batch = [...this.inFlight.values()];
    try {
      // One transaction: a process killed mid-batch leaves none of it, so a projection never finds one document
      // of an event written and another of the same event missing.
      await this.inTransaction(async (client) => {
        await this.checkClaim(client);
        const landed = await this.writeAll(client, batch);
        for (const entry of batch) {
          if (!landed.has(documentKey(entry.collection, entry.id))) await this.applyAgain(client, entry);
        }
      });
    } catch (error) {
      this.inFlight = new Map();
      if (isWritesClaimedElsewhere(error)) {
        this.discard();
        throw error;
      }
      // Nothing of the batch was written: hold it again, under what was held meanwhile, so no change is lost.
      for (const entry of batch) {
        const key = documentKey(entry.collection, entry.id);
        const newer = this.held.get(key);
        if (newer) {
          newer.base = entry.base;
          newer.updates.unshift(...entry.updates);
        } else {
          this.held.set(key, entry);
        }
      }
      throw error;
    }
    this.inFlight = new Map();
  }

  /**
   * Makes this store's writes the ones that land (see ReadStore.claimWrites): waits for its own batch in flight,
   * drops what it held from before, and takes the next token. The UPDATE waits for other stores' batches that
   * hold the token FOR SHARE, and after it commits their next batch is refused.
   */
  async claim(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    this.discard();
    const { rows } = await this.pool.query<{ token: string }>(
      'UPDATE read_model_writer SET token = token + 1 RETURNING token',
    );
    this.token = rows[0].token;
  }

  /** In a write's transaction: refuses it when another store claimed the read models after this one. */
  async checkClaim(client: pg.PoolClient): Promise<void> {
    if (this.token === undefined) return;
    const { rows } = await client.query<{ token: string }>('SELECT token FROM read_model_writer FOR SHARE');
    if (rows[0].token !== this.token) throw writesClaimedElsewhere();
  }

  /** A write other than documents (checkpoints, clearing a collection), in one transaction behind the claim check. */
  async claimed(work: (client: pg.PoolClient) => Promise<unknown>): Promise<void> {
    await this.inTransaction(async (client) => {
      await this.checkClaim(client);
      await work(client);
    });
  }

  /** Forgets every held change and remembered version: they were made under a claim that no longer holds. */
  private discard(): void {
    this.held = new Map();
    this.known.forgetAll();
  }

  /** Runs `work` in a transaction, again when a deadlock with another process's writes aborted it. */
  async inTransaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await work(client);
        await client.query('COMMIT');
        return;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        const deadlock = error instanceof pg.DatabaseError && error.code === '40P01';
        if (!deadlock || attempt >= DEADLOCK_TRIES) throw error;
      } finally {
        client.release();
      }
    }
  }

  /** Every write of the batch in one statement; answers the keys that landed. */
  private async writeAll(client: pg.PoolClient, batch: readonly HeldWrite[]): Promise<Set<string>> {
    const values = [
      batch.map((entry) => entry.collection),
      batch.map((entry) => entry.id),
      batch.map((entry) => entry.base?.position ?? null),
      batch.map((entry) => entry.latest.position),
      batch.map((entry) => (entry.latest.document === null ? null : JSON.stringify(entry.latest.document))),
    ];
    const { rows } = await client.query<{ collection: string; id: string }>({
      name: 'write-held-documents',
      text: `
        WITH v AS (
          SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])
            AS v(collection, id, expected, position, document)
        ), inserted AS (
          INSERT INTO read_models (collection, id, position, document)
          SELECT collection, id, position, document::jsonb FROM v WHERE expected IS NULL
          ON CONFLICT (collection, id) DO NOTHING
          RETURNING collection, id
        ), updated AS (
          UPDATE read_models r SET position = v.position, document = v.document::jsonb
          FROM v WHERE v.expected IS NOT NULL AND r.collection = v.collection AND r.id = v.id AND r.position = v.expected
          RETURNING r.collection, r.id
        )
        SELECT collection, id FROM inserted UNION ALL SELECT collection, id FROM updated`,
      values,
    });
    return new Set(rows.map((row) => documentKey(row.collection, row.id)));
  }

  /** Someone else wrote the document first: its changes again, on what the table holds now, one at a time. */
  private async applyAgain(client: pg.PoolClient, entry: HeldWrite): Promise<void> {
    const known = this.known.of(entry.collection);
    for (;;) {
      const { rows } = await client.query<StoredRow>(
        'SELECT position, document FROM read_models WHERE collection = $1 AND id = $2',
        [entry.collection, entry.id],
      );
      const stored = rows[0] ? { position: Number(rows[0].position), document: rows[0].document } : undefined;
      const missing = entry.updates.filter((change) => !stored || change.position > stored.position);
      if (missing.length === 0) {
        if (stored) known.set(entry.id, stored);
        return;
      }
      let document: unknown = stored?.document ?? null;
      for (const change of missing) document = change.update(document ?? undefined);
      const position = missing[missing.length - 1].position;
      const json = document === null ? null : JSON.stringify(document);
      const written = stored
        ? await client.query(
            `UPDATE read_models SET position = $3, document = $4::jsonb WHERE collection = $1 AND id = $2 AND position = $5`,
            [entry.collection, entry.id, position, json, stored.position],
          )
        : await client.query(
            `INSERT INTO read_models (collection, id, position, document) VALUES ($1, $2, $3, $4::jsonb)
             ON CONFLICT (collection, id) DO NOTHING`,
            [entry.collection, entry.id, position, json],
          );
      if (written.rowCount === 1) {
        known.set(entry.id, { position, document: json === null ? null : (JSON.parse(json) as unknown) });
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
  }
}

/**
 * The versions this process wrote last, least recently written first across all collections; beyond a bound the
 * least recently written is forgotten (a document many events update stays, one written once goes first).
 */
class KnownDocuments {
  private readonly documents = new Map<string, Known<unknown>>();

  constructor(private readonly capacity: number) {}

  of(collection: string) {
    return {
      get: (id: string) => this.documents.get(documentKey(collection, id)),
      set: (id: string, entry: Known<unknown>) => {
        const key = documentKey(collection, id);
        this.documents.delete(key);
        this.documents.set(key, entry);
        if (this.documents.size > this.capacity) this.documents.delete(this.documents.keys().next().value!);
      },
      clear: () => {
        const prefix = documentKey(collection, '');
        for (const key of [...this.documents.keys()]) if (key.startsWith(prefix)) this.documents.delete(key);
      },
    };
  }

  forgetAll(): void {
    this.documents.clear();
  }
}

function isWritesClaimedElsewhere(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'LEASE_LOST';
}

class PostgresCollection<T extends { id: string }> implements ReadModelCollection<T> {
  constructor(
    private readonly pool: pg.Pool,
    private readonly name: string,
    private readonly writes: DocumentWrites,
    private readonly known: ReturnType<KnownDocuments['of']>,
  ) {}

  /** This process's own change when it is not written yet; else the table's version (nothing to flush for it). */
  async get(id: string): Promise<T | undefined> {
    const unwritten = this.writes.unwritten(this.name, id);
    if (unwritten) return (unwritten.document ?? undefined) as T | undefined;
    const { rows } = await this.pool.query<{ document: T | null }>(
      'SELECT document FROM read_models WHERE collection = $1 AND id = $2',
      [this.name, id],
    );
    return rows[0]?.document ?? undefined;
  }

  /**
   * Builds on the newest version this process has and holds the change back to be written with others
   * (see DocumentWrites): the write is a compare-and-set on the stored position, so replicas projecting into
   * the same tables never lose each other's changes.
   */
  async apply(id: string, position: number, update: DocumentUpdate<T>): Promise<void> {
    const current = this.writes.latest(this.name, id) as Known<T> | undefined;
    if (current && current.position >= position) return;
    const next = update(current?.document ?? undefined);
    await this.writes.hold(this.name, id, position, update as DocumentUpdate<unknown>, next);
  }

  async find(query: FindQuery<T>): Promise<Page<T>> {
    await this.writes.flush();
    const orderBy = query.orderBy ?? 'id';
    const descending = query.direction === 'desc';
    const condition = toCondition(query.where, 2);
    const values: unknown[] = [this.name, ...condition.values];
    // A missing field sorts as JSON null, first in ascending order, as in the in-memory adapter.
    const sortKey = orderBy === 'id' ? 'to_jsonb(id)' : `coalesce(document -> $${values.push(orderBy)}, 'null'::jsonb)`;
    let sql = `SELECT document FROM read_models WHERE collection = $1 AND ${condition.sql}`;
    if (query.cursor) {
      const [value, id] = decodeCursor(query.cursor);
      values.push(JSON.stringify(value ?? null), id);
      sql += ` AND (${sortKey}, id) ${descending ? '<' : '>'} ($${values.length - 1}::jsonb, $${values.length})`;
    }
    const direction = descending ? 'DESC' : 'ASC';
    values.push(query.limit + 1);
    sql += ` ORDER BY ${sortKey} ${direction}, id ${direction} LIMIT $${values.length}`;
    const { rows } = await this.pool.query<{ document: T }>(sql, values);
    const items = rows.slice(0, query.limit).map((row) => row.document);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > query.limit && last ? encodeCursor(last[orderBy as keyof T], last.id) : null,
    };
  }

  async findAll(where?: Where<T>): Promise<T[]> {
    await this.writes.flush();
    const condition = toCondition(where, 2);
    const { rows } = await this.pool.query<{ document: T }>(
      `SELECT document FROM read_models WHERE collection = $1 AND ${condition.sql} ORDER BY id`,
      [this.name, ...condition.values],
    );
    return rows.map((row) => row.document);
  }

  async count(where?: Where<T>): Promise<number> {
    await this.writes.flush();
    const condition = toCondition(where, 2);
    const { rows } = await this.pool.query<{ count: string }>(
      `SELECT count(*) AS count FROM read_models WHERE collection = $1 AND ${condition.sql}`,
      [this.name, ...condition.values],
    );
    return Number(rows[0].count);
  }

  async clear(): Promise<void> {
    await this.writes.flush();
    this.known.clear();
    await this.writes.claimed((client) => client.query('DELETE FROM read_models WHERE collection = $1', [this.name]));
  }
}

/** Checkpoints are written after the document changes held before them, so they never get ahead of them. */
class PostgresCheckpointStore extends CheckpointStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writes: DocumentWrites,
  ) {
    super();
  }

  async get(name: string): Promise<Checkpoint | undefined> {
    const { rows } = await this.pool.query<{ position: string; version: number }>(
      'SELECT position, version FROM read_model_checkpoints WHERE name = $1',
      [name],
    );
    return rows[0] ? { position: Number(rows[0].position), version: rows[0].version } : undefined;
  }

  async set(name: string, checkpoint: Checkpoint): Promise<void> {
    await this.setAll(new Map([[name, checkpoint]]));
  }

  async setAll(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<void> {
    await this.writes.flush();
    if (checkpoints.size === 0) return;
    const entries = [...checkpoints];
    await this.writes.claimed((client) =>
      client.query(
        `INSERT INTO read_model_checkpoints (name, position, version)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[])
       ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, version = EXCLUDED.version`,
        [entries.map(([name]) => name), entries.map(([, c]) => c.position), entries.map(([, c]) => c.version)],
      ),
    );
  }
}

/** The read side in PostgreSQL: every collection's documents as JSONB rows in one table, checkpoints beside them. */
export class PostgresReadStore extends ReadStore {
  readonly sharedBetweenProcesses = true;
  readonly checkpoints: CheckpointStore;
  private readonly known = new KnownDocuments(KNOWN_DOCUMENTS);
  private readonly writes: DocumentWrites;

  private constructor(private readonly pool: pg.Pool) {
    super();
    this.writes = new DocumentWrites(pool, this.known);
    this.checkpoints = new PostgresCheckpointStore(pool, this.writes);
  }

  /** Connects and migrates the schema. */
  static async connect(url: string, options: { poolSize?: number } = {}): Promise<PostgresReadStore> {
    // Read models and checkpoints are rebuilt from the log, so their commits need not wait for the disk: a
    // server crash loses the newest ones together with the checkpoints after them, and projecting resumes earlier.
    const pool = createPostgresPool(url, {
      max: options.poolSize ?? 5,
      applicationName: 'diyml-read-store',
      synchronousCommit: false,
    });
    try {
      await migrate(pool, 'read-store', READ_STORE_MIGRATIONS);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresReadStore(pool);
  }

  collection<T extends { id: string }>(name: string): ReadModelCollection<T> {
    return new PostgresCollection<T>(this.pool, name, this.writes, this.known.of(name));
  }

  async collectionNames(): Promise<string[]> {
    await this.writes.flush();
    const { rows } = await this.pool.query<{ collection: string }>(
      'SELECT DISTINCT collection FROM read_models WHERE document IS NOT NULL',
    );
    return rows.map((row) => row.collection).sort();
  }

  flush(): Promise<void> {
    return this.writes.flush();
  }

  claimWrites(): Promise<void> {
    return this.writes.claim();
  }

  async close(): Promise<void> {
    try {
      await this.writes.close();
    } finally {
      await this.pool.end();
    }
  }
}
