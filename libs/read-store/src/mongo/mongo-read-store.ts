import mongoose, { type Connection } from 'mongoose';
import type { Page } from '@diyml/core';
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

const PREFIX = 'rm_';
const CHECKPOINTS = 'checkpoints';
const WRITER = 'read_model_writer';
const DUPLICATE_KEY = 11000;

type Stored<T> = Omit<T, 'id'> & { _id: string; _position: number; _deleted?: boolean };
type Filter = Record<string, unknown>;

/** `{ in: [...] }` is MongoDB's $in, which matches as equality does: null matches missing, an array any element. */
function toFilter<T>(where: Where<T> | undefined): Filter {
  const filter: Filter = { _deleted: { $ne: true } };
  for (const [field, value] of Object.entries(where ?? {})) {
    filter[field === 'id' ? '_id' : field] = isAnyOf(value) ? { $in: value.in } : value;
  }
  return filter;
}

function fromStored<T extends { id: string }>(stored: Stored<T>): T {
  const { _id, _position, _deleted, ...rest } = stored;
  return { ...(rest as unknown as Omit<T, 'id'>), id: _id } as T;
}

/**
 * The index for a query: equality fields (in a stable order), then the sort field, then _id (the tie-break and
 * cursor). Undefined when the _id index already serves it.
 */
function indexFor(where: Record<string, unknown> | undefined, sortField = '_id'): Record<string, 1> | undefined {
  const fields = Object.keys(where ?? {})
    .map((field) => (field === 'id' ? '_id' : field))
    .filter((field) => field !== '_id')
    .sort();
  if (fields.length === 0 && sortField === '_id') return undefined;
  const keys: Record<string, 1> = {};
  for (const field of [...fields, sortField, '_id']) keys[field] = 1;
  return keys;
}

/**
 * The fencing token of the store that projects (see ReadStore.claimWrites). A standalone MongoDB server has no
 * multi-document transactions, so the token is read before each write rather than in the write's transaction:
 * a process that lost the lease stops at its next write, but one write already sent may still land (each is a
 * position-guarded compare-and-set, so it cannot undo a newer change of the same document).
 */
class MongoClaim {
  private token?: number;

  constructor(private readonly connection: Connection) {}

  async claim(): Promise<void> {
    const claimed = await this.writer.findOneAndUpdate(
      { _id: 'projections' },
      { $inc: { token: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    this.token = claimed!.token;
  }

  async check(): Promise<void> {
    if (this.token === undefined) return;
    const current = await this.writer.findOne({ _id: 'projections' });
    if (current?.token !== this.token) throw writesClaimedElsewhere();
  }

  private get writer() {
    return this.connection.collection<{ _id: string; token: number }>(WRITER);
  }
}

class MongoCollection<T extends { id: string }> implements ReadModelCollection<T> {
  constructor(
    private readonly connection: Connection,
    private readonly name: string,
    /** Indexes created (or being created) per collection, shared by every handle on this connection. */
    private readonly indexes: Map<string, Promise<unknown>>,
    private readonly claim: MongoClaim,
  ) {}

  /**
   * Creates the index a query shape needs the first time this process runs it, so no query scans the
   * collection (a projection's LabelRemoved over a project's images, a page of a project's images).
   */
  private async indexed(where: Record<string, unknown> | undefined, sortField?: string): Promise<void> {
    const keys = indexFor(where, sortField);
    if (!keys) return;
    const key = `${this.name}:${Object.keys(keys).join(',')}`;
    let creating = this.indexes.get(key);
    if (!creating) {
      creating = this.native.createIndex(keys);
      this.indexes.set(key, creating);
      creating.catch(() => this.indexes.delete(key));
    }
    await creating;
  }

  private get native() {
    // Read models are schemaless per projection, so the native driver collection is used untyped.
    return this.connection.collection<{ _id: string } & Record<string, unknown>>(PREFIX + this.name);
  }

  async get(id: string): Promise<T | undefined> {
    const stored = await this.native.findOne({ _id: id, _deleted: { $ne: true } } as never);
    return stored ? fromStored<T>(stored as unknown as Stored<T>) : undefined;
  }

  async apply(id: string, position: number, update: DocumentUpdate<T>): Promise<void> {
    const stored = (await this.native.findOne({ _id: id } as never)) as unknown as Stored<T> | null;
    if (stored && stored._position >= position) return;
    const current = stored && !stored._deleted ? fromStored<T>(stored) : undefined;
    const next = update(current);
    const { id: _ignored, ...fields } = (next ?? {}) as T;
    const replacement = next === null ? { _position: position, _deleted: true } : { ...fields, _position: position };
    await this.claim.check();
    try {
      await this.native.replaceOne(
        { _id: id, $or: [{ _position: { $lt: position } }, { _position: { $exists: false } }] } as never,
        replacement as never,
        { upsert: true },
      );
    } catch (error) {
      // The document is already at a newer position: another runner applied this event first.
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
    }
  }

  async find(query: FindQuery<T>): Promise<Page<T>> {
    const orderBy = query.orderBy ?? 'id';
    const field = orderBy === 'id' ? '_id' : orderBy;
    const direction = query.direction === 'desc' ? -1 : 1;
    const filter = toFilter(query.where);
    if (query.cursor) {
      const [value, id] = decodeCursor(query.cursor);
      const beyond = direction === 1 ? '$gt' : '$lt';
      filter.$or =
        field === '_id'
          ? [{ _id: { [beyond]: id } }]
          : [{ [field]: { [beyond]: value } }, { [field]: value, _id: { [beyond]: id } }];
    }
    const sort: Record<string, 1 | -1> = { [field]: direction, _id: direction };
    await this.indexed(query.where, field);
    const found = (await this.native
      .find(filter as never)
      .sort(sort)
      .limit(query.limit + 1)
      .toArray()) as unknown as Stored<T>[];
    const items = found.slice(0, query.limit).map((stored) => fromStored<T>(stored));
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: found.length > query.limit && last ? encodeCursor(last[orderBy as keyof T], last.id) : null,
    };
  }

  async findAll(where?: Where<T>): Promise<T[]> {
    await this.indexed(where);
    const found = (await this.native
      .find(toFilter(where) as never)
      .sort({ _id: 1 })
      .toArray()) as unknown as Stored<T>[];
    return found.map((stored) => fromStored<T>(stored));
  }

  async count(where?: Where<T>): Promise<number> {
    await this.indexed(where);
    return this.native.countDocuments(toFilter(where) as never);
  }

  async clear(): Promise<void> {
    await this.claim.check();
    await this.native.deleteMany({});
  }
}

class MongoCheckpointStore extends CheckpointStore {
  constructor(
    private readonly connection: Connection,
    private readonly claim: MongoClaim,
  ) {
    super();
  }

  async get(name: string): Promise<Checkpoint | undefined> {
    const stored = await this.connection
      .collection<{ _id: string; position: number; version: number }>(CHECKPOINTS)
      .findOne({ _id: name });
    return stored ? { position: stored.position, version: stored.version } : undefined;
  }

  async set(name: string, checkpoint: Checkpoint): Promise<void> {
    await this.claim.check();
    await this.connection
      .collection<{ _id: string; position: number; version: number }>(CHECKPOINTS)
      .replaceOne({ _id: name }, checkpoint, { upsert: true });
  }

  async setAll(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<void> {
    if (checkpoints.size === 0) return;
    await this.claim.check();
    await this.connection.collection<{ _id: string; position: number; version: number }>(CHECKPOINTS).bulkWrite(
      [...checkpoints].map(([name, checkpoint]) => ({
        replaceOne: { filter: { _id: name }, replacement: checkpoint, upsert: true },
      })),
      { ordered: false },
    );
  }
}

/** The distributed read side: one MongoDB collection per read model, checkpoints beside them. */
export class MongoReadStore extends ReadStore {
  readonly sharedBetweenProcesses = true;
  readonly checkpoints: CheckpointStore;
  private readonly indexes = new Map<string, Promise<unknown>>();
  private readonly claim: MongoClaim;

  private constructor(private readonly connection: Connection) {
    super();
    this.claim = new MongoClaim(connection);
    this.checkpoints = new MongoCheckpointStore(connection, this.claim);
  }

  static async connect(uri: string): Promise<MongoReadStore> {
    const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
    return new MongoReadStore(connection);
  }

  /** On a connection made elsewhere (tests pass one that plays the server). */
  static on(connection: Connection): MongoReadStore {
    return new MongoReadStore(connection);
  }

  collection<T extends { id: string }>(name: string): ReadModelCollection<T> {
    return new MongoCollection<T>(this.connection, name, this.indexes, this.claim);
  }

  /** Writes at once: nothing held back. */
  async flush(): Promise<void> {}

  claimWrites(): Promise<void> {
    return this.claim.claim();
  }

  async collectionNames(): Promise<string[]> {
    const db = this.connection.db;
    if (!db) return [];
    const collections = await db.listCollections({}, { nameOnly: true }).toArray();
    const names: string[] = [];
    for (const { name } of collections) {
      if (!name.startsWith(PREFIX)) continue;
      const live = await this.connection.collection(name).countDocuments({ _deleted: { $ne: true } });
      if (live > 0) names.push(name.slice(PREFIX.length));
    }
    return names.sort();
  }

  /** Drops every read model and checkpoint: used by tests to start from zero. */
  async dropAll(): Promise<void> {
    await this.connection.dropDatabase();
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
