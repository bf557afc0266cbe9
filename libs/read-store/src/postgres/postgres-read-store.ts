import type pg from 'pg';
import { createPostgresPool, migrate, type Page } from '../../../core/src/index.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import {
  type Checkpoint,
  CheckpointStore,
  type DocumentUpdate,
  type FindQuery,
  type ReadModelCollection,
  ReadStore,
  type Where,
} from '../read-store.port.js';
import { READ_STORE_MIGRATIONS } from './postgres-read-store.migrations.js';

/** Documents whose last written version each process remembers, to update them in one statement. */
const KNOWN_DOCUMENTS = 20_000;

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

/** The versions this process wrote last, per collection, newest last; the oldest are forgotten beyond a bound. */
class KnownDocuments {
  private readonly byCollection = new Map<string, Map<string, Known<unknown>>>();
  private size = 0;

  constructor(private readonly capacity: number) {}

  of(collection: string) {
    let documents = this.byCollection.get(collection);
    if (!documents) {
      documents = new Map();
      this.byCollection.set(collection, documents);
    }
    const known = documents;
    return {
      get: (id: string) => known.get(id),
      set: (id: string, entry: Known<unknown>) => {
        if (!known.delete(id)) this.size += 1;
        known.set(id, entry);
        if (this.size > this.capacity) this.forgetOldest();
      },
      clear: () => {
        this.size -= known.size;
        known.clear();
      },
    };
  }

  private forgetOldest(): void {
    for (const documents of this.byCollection.values()) {
      const oldest = documents.keys().next();
      if (!oldest.done) {
        documents.delete(oldest.value);
        this.size -= 1;
        return;
      }
    }
  }
}

class PostgresCollection<T extends { id: string }> implements ReadModelCollection<T> {
  constructor(
    private readonly pool: pg.Pool,
    private readonly name: string,
    private readonly known: ReturnType<KnownDocuments['of']>,
  ) {}

  async get(id: string): Promise<T | undefined> {
    const { rows } = await this.pool.query<{ document: T | null }>(
      'SELECT document FROM read_models WHERE collection = $1 AND id = $2',
      [this.name, id],
    );
    return rows[0]?.document ?? undefined;
  }

  /**
   * Compare-and-set on the stored position: the write only lands if nobody wrote the document since this process
   * last saw it, so replicas projecting into the same tables never lose each other's changes. The version this
   * process wrote last is remembered, so the usual apply is one statement; on a race it reads the row and retries.
   */
  async apply(id: string, position: number, update: DocumentUpdate<T>): Promise<void> {
    let stored = this.known.get(id) as Known<T> | undefined;
    for (;;) {
      if (stored && stored.position >= position) return;
      const next = update(stored?.document ?? undefined);
      const json = next === null ? null : JSON.stringify(next);
      const written = stored
        ? await this.pool.query(
            `UPDATE read_models SET position = $3, document = $4::jsonb
             WHERE collection = $1 AND id = $2 AND position = $5`,
            [this.name, id, position, json, stored.position],
          )
        : await this.pool.query(
            `INSERT INTO read_models (collection, id, position, document) VALUES ($1, $2, $3, $4::jsonb)
             ON CONFLICT (collection, id) DO NOTHING`,
            [this.name, id, position, json],
          );
      if (written.rowCount === 1) {
        this.known.set(id, { position, document: json === null ? null : (JSON.parse(json) as T) });
        return;
      }
      const { rows } = await this.pool.query<{ position: string; document: T | null }>(
        'SELECT position, document FROM read_models WHERE collection = $1 AND id = $2',
        [this.name, id],
      );
      stored = rows[0] ? { position: Number(rows[0].position), document: rows[0].document } : undefined;
    }
  }

  async find(query: FindQuery<T>): Promise<Page<T>> {
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
    const condition = toCondition(where, 2);
    const { rows } = await this.pool.query<{ document: T }>(
      `SELECT document FROM read_models WHERE collection = $1 AND ${condition.sql} ORDER BY id`,
      [this.name, ...condition.values],
    );
    return rows.map((row) => row.document);
  }

  async count(where?: Where<T>): Promise<number> {
    const condition = toCondition(where, 2);
    const { rows } = await this.pool.query<{ count: string }>(
      `SELECT count(*) AS count FROM read_models WHERE collection = $1 AND ${condition.sql}`,
      [this.name, ...condition.values],
    );
    return Number(rows[0].count);
  }

  async clear(): Promise<void> {
    this.known.clear();
    await this.pool.query('DELETE FROM read_models WHERE collection = $1', [this.name]);
  }
}

class PostgresCheckpointStore extends CheckpointStore {
  constructor(private readonly pool: pg.Pool) {
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
    await this.pool.query(
      `INSERT INTO read_model_checkpoints (name, position, version) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, version = EXCLUDED.version`,
      [name, checkpoint.position, checkpoint.version],
    );
  }

  async setAll(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<void> {
    if (checkpoints.size === 0) return;
    const entries = [...checkpoints];
    await this.pool.query(
      `INSERT INTO read_model_checkpoints (name, position, version)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[])
       ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, version = EXCLUDED.version`,
      [entries.map(([name]) => name), entries.map(([, c]) => c.position), entries.map(([, c]) => c.version)],
    );
  }
}

/** The read side in PostgreSQL: every collection's documents as JSONB rows in one table, checkpoints beside them. */
export class PostgresReadStore extends ReadStore {
  readonly checkpoints: CheckpointStore;
  private readonly known = new KnownDocuments(KNOWN_DOCUMENTS);

  private constructor(private readonly pool: pg.Pool) {
    super();
    this.checkpoints = new PostgresCheckpointStore(pool);
  }

  /** Connects and migrates the schema. */
  static async connect(url: string, options: { poolSize?: number } = {}): Promise<PostgresReadStore> {
    // Read models and checkpoints are rebuilt from the log, so their commits need not wait for the disk: a
    // server crash loses the newest ones together with the checkpoints after them, and projecting resumes earlier.
    const pool = createPostgresPool(url, { max: options.poolSize ?? 5, applicationName: 'diyml-read-store', synchronousCommit: false });
    try {
      await migrate(pool, 'read-store', READ_STORE_MIGRATIONS);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresReadStore(pool);
  }

  collection<T extends { id: string }>(name: string): ReadModelCollection<T> {
    return new PostgresCollection<T>(this.pool, name, this.known.of(name));
  }

  async collectionNames(): Promise<string[]> {
    const { rows } = await this.pool.query<{ collection: string }>(
      'SELECT DISTINCT collection FROM read_models WHERE document IS NOT NULL',
    );
    return rows.map((row) => row.collection).sort();
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
