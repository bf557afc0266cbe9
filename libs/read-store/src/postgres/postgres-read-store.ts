import { Logger } from '@nestjs/common';
import type pg from 'pg';
import { createPostgresPool, inTransaction, migrate, type Page, postgresDriver } from '@diyml/core';
import { decodeCursor, encodeCursor } from '../cursor.js';
import {
  type Checkpoint,
  CheckpointStore,
  type DocumentUpdate,
  type FindQuery,
  type ReadModelCollection,
  isAnyOf,
  ReadStore,
  type Where,
  writesClaimedElsewhere,
} from '../read-store.port.js';
import { CLAIMED_ELSEWHERE_STATE, READ_STORE_MIGRATIONS, STALE_BASE_STATE } from './postgres-read-store.migrations.js';

/** Documents whose last written version each process remembers, to update them in one statement. */
const KNOWN_DOCUMENTS = 20_000;
/** Document changes held back at most before they are written without waiting for a flush. */
const MAX_HELD_WRITES = 1000;
/** How long a change waits for others to join it when nothing asks for a flush. */
const HOLD_MS = 20;
/** Tries of one batch of document writes that a deadlock with another replica's batch aborted. */
const DEADLOCK_TRIES = 3;
/**
 * Row ids the store that claimed the read models keeps at most, so that it knows a document is absent without
 * asking (catching up creates thousands); collections beyond are asked about.
 */
const MAX_TRACKED_ROWS = 500_000;

/**
 * A WHERE clause over `document` and its parameters, numbered from `firstParameter`. A scalar value also matches an
 * array field holding it (as MongoDB and the in-memory store match); both forms are containments the GIN index serves,
 * and so is `{ in: [...] }`: any of those containments.
 */
function toCondition<T>(where: Where<T> | undefined, firstParameter: number): { sql: string; values: unknown[] } {
  const clauses = ['document IS NOT NULL'];
  const values: unknown[] = [];
  const parameter = (value: unknown) => {
    values.push(value);
    return `$${firstParameter + values.length - 1}`;
  };
  const missing = (field: string) => `coalesce(document -> ${parameter(field)}, 'null'::jsonb) = 'null'::jsonb`;
  for (const [field, filter] of Object.entries(where ?? {})) {
    // PostgreSQL looks up every combination of the ANY arrays of a query in the index (type × stream: 2 × 200
    // lookups, 4 ms instead of 0.7): one value is an equality, which it checks on the rows it finds instead.
    const value = isAnyOf(filter) && filter.in.length === 1 ? filter.in[0] : filter;
    if (value === null || value === undefined) {
      clauses.push(missing(field));
    } else if (isAnyOf(value)) {
      // One containment per value and form, as one array: a bitmap scan of the GIN index looks each up.
      const present = value.in.filter((one) => one !== null && one !== undefined);
      const containments = present.flatMap((one) =>
        typeof one === 'object'
          ? [JSON.stringify({ [field]: one })]
          : [JSON.stringify({ [field]: one }), JSON.stringify({ [field]: [one] })],
      );
      const alternatives = [`document @> ANY(${parameter(containments)}::jsonb[])`];
      if (present.length < value.in.length) alternatives.push(missing(field));
      clauses.push(`(${alternatives.join(' OR ')})`);
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
  /** The process stopped projecting, or another store claimed the read models since: what it knows may be old. */
  private released = false;

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
    return this.unwritten(collection, id) ?? this.known.of(collection).get(id);
  }

  /**
   * Writes this collection's held changes (and whatever is held with them) before a query of it; a query of a
   * collection with nothing held or in flight waits for nothing, so a projection that queries one collection while
   * it changes others does not write a batch per event.
   */
  async flushFor(collection: string): Promise<void> {
    const holds = (writes: ReadonlyMap<string, HeldWrite>) => {
      for (const entry of writes.values()) if (entry.collection === collection) return true;
      return false;
    };
    if (holds(this.held)) await this.flush();
    else if (holds(this.inFlight)) await this.writing;
  }

  /** Whether this store claimed the read models: then no other store writes them, and what it knows holds. */
  get holdsClaim(): boolean {
    return this.token !== undefined && !this.released;
  }

  /** Stops answering from memory (see ReadStore.releaseWrites); writes still carry the token, and fail once overtaken. */
  release(): void {
    this.released = true;
    this.known.forgetAll();
  }

  async hold(
    collection: string,
    id: string,
    position: number,
    update: DocumentUpdate<unknown>,
    next: unknown,
  ): Promise<void> {
    const key = documentKey(collection, id);
    // Documents are immutable values (as in the in-memory store): a projection builds the next version instead of
    // changing the one it read, so the version is kept as it is, not copied, and turned into JSON once per write.
    const latest = { position, document: next === null ? null : Object.freeze(next) };
    const known = this.known.of(collection);
    const entry = this.held.get(key) ?? { collection, id, base: known.get(id), latest, updates: [] };
    entry.latest = latest;
    entry.updates.push({ position, update });
    this.held.set(key, entry);
    known.set(id, latest);
    known.addRow(id);
    if (this.held.size < MAX_HELD_WRITES) return this.scheduleFlush();
    // One batch is written while the next one fills: the projection waits only when the one before is not done.
    await this.writing;
    if (this.held.size >= MAX_HELD_WRITES) this.flushInBackground();
  }

  /** Writes what is held after HOLD_MS. */
  private scheduleFlush(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flushInBackground();
    }, HOLD_MS).unref();
  }

  /** A write nobody waits for: when it fails, its changes are held again and tried again, not left for a later change. */
  private flushInBackground(): void {
    this.flush().catch((error: unknown) => {
      if (isWritesClaimedElsewhere(error)) return; // dropped: the next read or checkpoint tells the runner
      this.logger.warn(`Writing held document changes failed, kept for the next try: ${String(error)}`);
      this.scheduleFlush();
    });
  }

  /**
   * Writes what is held, and `checkpoints` with it in the same transaction (they never get ahead of the documents
   * and never land without them); one batch at a time, in order, so a later batch never overtakes an earlier one.
   */
  flush(checkpoints?: ReadonlyMap<string, Checkpoint>): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.writing.then(() => this.writeHeld(checkpoints));
    this.writing = run.catch(() => {});
    return run;
  }

  private async writeHeld(checkpoints: ReadonlyMap<string, Checkpoint> = new Map()): Promise<void> {
    if (this.held.size === 0 && checkpoints.size === 0) return;
    this.inFlight = this.held;
    this.held = new Map();
    const batch = [...this.inFlight.values()];
    try {
      // One transaction: a process killed mid-batch leaves none of it, so a projection never finds one document
      // of an event written and another of the same event missing.
      if (!(await this.writeAtOnce(batch, checkpoints))) {
        await this.inTransaction(async (client) => {
          await this.checkClaim(client);
          const landed = await this.writeAll(client, batch);
          for (const entry of batch) {
            if (!landed.has(documentKey(entry.collection, entry.id))) await this.applyAgain(client, entry);
          }
          await writeCheckpoints(client, checkpoints);
        });
      }
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
   * The batch and the checkpoints in one statement, one round trip (write_read_models()); false when a
   * compare-and-set missed (another replica wrote a document first) and nothing was written.
   */
  private async writeAtOnce(
    batch: readonly HeldWrite[],
    checkpoints: ReadonlyMap<string, Checkpoint>,
  ): Promise<boolean> {
    const entries = [...checkpoints];
    const values = [
      this.token ?? null,
      batch.map((entry) => entry.collection),
      batch.map((entry) => entry.id),
      batch.map((entry) => entry.base?.position ?? null),
      batch.map((entry) => entry.latest.position),
      batch.map((entry) => (entry.latest.document === null ? null : JSON.stringify(entry.latest.document))),
      entries.map(([name]) => name),
      entries.map(([, checkpoint]) => checkpoint.position),
      entries.map(([, checkpoint]) => checkpoint.version),
    ];
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.pool.query({
          name: 'write-read-models',
          text: 'SELECT write_read_models($1, $2, $3, $4, $5, $6, $7, $8, $9)',
          values,
        });
        return true;
      } catch (error) {
        if (!(error instanceof postgresDriver().DatabaseError)) throw error;
        if (error.code === STALE_BASE_STATE) return false;
        if (error.code === CLAIMED_ELSEWHERE_STATE) throw writesClaimedElsewhere();
        if (error.code !== '40P01' || attempt >= DEADLOCK_TRIES) throw error;
      }
    }
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
    this.released = false;
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
    this.release();
  }

  /** Runs `work` in a transaction, again when a deadlock with another process's writes aborted it. */
  async inTransaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await inTransaction(this.pool, work);
      } catch (error) {
        const deadlock = error instanceof postgresDriver().DatabaseError && error.code === '40P01';
        if (!deadlock || attempt >= DEADLOCK_TRIES) throw error;
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
 * While the store holds the claim it also keeps, per collection it looked at, the ids of every row the table holds
 * (documents and tombstones; rows are only removed by clearing the collection): an id not among them is absent.
 */
class KnownDocuments {
  private readonly documents = new Map<string, Known<unknown>>();
  /** Per collection: the ids of its rows; null: not kept (too many in all), ask the table. */
  private readonly rows = new Map<string, Set<string> | null>();
  private trackedRows = 0;

  constructor(private readonly capacity: number) {}

  /** One view per collection, made once: projections ask for it on every change. */
  private readonly views = new Map<string, ReturnType<KnownDocuments['viewOf']>>();

  of(collection: string) {
    let view = this.views.get(collection);
    if (!view) this.views.set(collection, (view = this.viewOf(collection)));
    return view;
  }

  private viewOf(collection: string) {
    return {
      get: (id: string) => this.documents.get(documentKey(collection, id)),
      set: (id: string, entry: Known<unknown>) => {
        const key = documentKey(collection, id);
        this.documents.delete(key);
        this.documents.set(key, entry);
        if (this.documents.size > this.capacity) this.documents.delete(this.documents.keys().next().value!);
      },
      /** Records that the table holds (or will hold, once held changes are written) a row for `id`. */
      addRow: (id: string) => {
        const ids = this.rows.get(collection);
        if (!ids || ids.has(id)) return;
        ids.add(id);
        this.trackedRows += 1;
        if (this.trackedRows > MAX_TRACKED_ROWS) this.untrack(collection);
      },
      /** How many rows the collection holds; Infinity: more than are kept; undefined: not looked at yet. */
      rowCount: (): number | undefined => {
        const ids = this.rows.get(collection);
        return ids === undefined ? undefined : ids === null ? Number.POSITIVE_INFINITY : ids.size;
      },
      /** true: the table holds no row for `id`; false: it may; undefined: this collection's rows are not known yet. */
      absent: (id: string): boolean | undefined => {
        const ids = this.rows.get(collection);
        return ids === undefined ? undefined : ids === null ? false : !ids.has(id);
      },
      /** Starts keeping the collection's row ids: `ids` read from the table, plus those this process holds. */
      trackRows: (ids: readonly string[] | null) => {
        if (this.rows.has(collection)) return;
        if (ids === null) return void this.rows.set(collection, null);
        const tracked = new Set(ids);
        const prefix = documentKey(collection, '');
        for (const key of this.documents.keys()) if (key.startsWith(prefix)) tracked.add(key.slice(prefix.length));
        if (this.trackedRows + tracked.size > MAX_TRACKED_ROWS) return void this.rows.set(collection, null);
        this.rows.set(collection, tracked);
        this.trackedRows += tracked.size;
      },
      /** The collection is empty now (cleared); `tracking`: keep its row ids from here. */
      clear: (tracking: boolean) => {
        const prefix = documentKey(collection, '');
        for (const key of [...this.documents.keys()]) if (key.startsWith(prefix)) this.documents.delete(key);
        this.untrack(collection);
        if (tracking) this.rows.set(collection, new Set());
      },
    };
  }

  private untrack(collection: string): void {
    this.trackedRows -= this.rows.get(collection)?.size ?? 0;
    this.rows.set(collection, null);
  }

  forgetAll(): void {
    this.documents.clear();
    this.rows.clear();
    this.trackedRows = 0;
  }
}

/** Upserts checkpoints in a write's transaction. */
async function writeCheckpoints(client: pg.PoolClient, checkpoints: ReadonlyMap<string, Checkpoint>): Promise<void> {
  if (checkpoints.size === 0) return;
  const entries = [...checkpoints];
  await client.query(
    `INSERT INTO read_model_checkpoints (name, position, version)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[])
     ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, version = EXCLUDED.version`,
    [entries.map(([name]) => name), entries.map(([, c]) => c.position), entries.map(([, c]) => c.version)],
  );
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

  /**
   * This process's own change when it is not written yet; while the store holds the claim, the version it knows
   * (nobody else writes); else the table's version (nothing to flush for it).
   */
  async get(id: string): Promise<T | undefined> {
    if (this.writes.holdsClaim) return ((await this.current(id))?.document ?? undefined) as T | undefined;
    const unwritten = this.writes.unwritten(this.name, id);
    if (unwritten) return (unwritten.document ?? undefined) as T | undefined;
    return ((await this.read(id))?.document ?? undefined) as T | undefined;
  }

  /**
   * Builds on the newest version this process has and holds the change back to be written with others
   * (see DocumentWrites): the write is a compare-and-set on the stored position, so replicas projecting into
   * the same tables never lose each other's changes.
   */
  async apply(id: string, position: number, update: DocumentUpdate<T>): Promise<void> {
    const current = (this.writes.holdsClaim ? await this.current(id) : this.writes.latest(this.name, id)) as
      Known<T> | undefined;
    if (current && current.position >= position) return;
    const next = update(current?.document ?? undefined);
    await this.writes.hold(this.name, id, position, update as DocumentUpdate<unknown>, next);
  }

  /**
   * For the store that holds the claim: the newest version of a document, from memory when this process wrote or
   * read it, or knows it absent; from the table otherwise. undefined: absent.
   */
  private async current(id: string): Promise<Known<unknown> | undefined> {
    const latest = this.writes.latest(this.name, id);
    if (latest) return latest;
    if (this.known.absent(id) === undefined) await this.trackRows();
    if (this.known.absent(id)) return undefined;
    return this.read(id);
  }

  /**
   * Before a query: true when the store holds the claim and knows the collection has no row (a projection querying
   * a collection nobody uses yet asks nothing); else writes what the query must see first.
   */
  private async knownEmpty(): Promise<boolean> {
    if (this.writes.holdsClaim) {
      if (this.known.rowCount() === undefined) await this.trackRows();
      if (this.known.rowCount() === 0) return true;
    }
    await this.writes.flushFor(this.name);
    return false;
  }

  /** Reads the collection's row ids once, when they are few enough to keep (see KnownDocuments). */
  private async trackRows(): Promise<void> {
    const { rows } = await this.pool.query<{ id: string }>(
      'SELECT id FROM read_models WHERE collection = $1 LIMIT $2',
      [this.name, MAX_TRACKED_ROWS + 1],
    );
    this.known.trackRows(rows.length > MAX_TRACKED_ROWS ? null : rows.map((row) => row.id));
  }

  /** The table's version of a document, remembered as the base of this process's next write of it. */
  private async read(id: string): Promise<Known<unknown> | undefined> {
    const { rows } = await this.pool.query<StoredRow>({
      name: 'read-document',
      text: 'SELECT position, document FROM read_models WHERE collection = $1 AND id = $2',
      values: [this.name, id],
    });
    if (!rows[0]) return undefined;
    const stored = { position: Number(rows[0].position), document: rows[0].document };
    // Unless this process changed it meanwhile: its own change is newer.
    if (!this.writes.latest(this.name, id)) this.known.set(id, stored);
    return stored;
  }

  async find(query: FindQuery<T>): Promise<Page<T>> {
    if (await this.knownEmpty()) return { items: [], nextCursor: null };
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
    if (await this.knownEmpty()) return [];
    const condition = toCondition(where, 2);
    const { rows } = await this.pool.query<{ document: T }>(
      `SELECT document FROM read_models WHERE collection = $1 AND ${condition.sql} ORDER BY id`,
      [this.name, ...condition.values],
    );
    return rows.map((row) => row.document);
  }

  async count(where?: Where<T>): Promise<number> {
    if (await this.knownEmpty()) return 0;
    const condition = toCondition(where, 2);
    const { rows } = await this.pool.query<{ count: string }>(
      `SELECT count(*) AS count FROM read_models WHERE collection = $1 AND ${condition.sql}`,
      [this.name, ...condition.values],
    );
    return Number(rows[0].count);
  }

  async clear(): Promise<void> {
    await this.writes.flush();
    await this.writes.claimed((client) => client.query('DELETE FROM read_models WHERE collection = $1', [this.name]));
    this.known.clear(this.writes.holdsClaim);
  }
}

/** Checkpoints are written with the document changes held before them, so they never get ahead of them. */
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

  /** With the held document changes, in their transaction. */
  setAll(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<void> {
    return this.writes.flush(checkpoints);
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

  override releaseWrites(): void {
    this.writes.release();
  }

  async close(): Promise<void> {
    try {
      await this.writes.close();
    } finally {
      await this.pool.end();
    }
  }
}
