import mongoose, { type Connection } from 'mongoose';
import type { Page } from '../../../core/src/index.js';
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

const PREFIX = 'rm_';
const CHECKPOINTS = 'checkpoints';
const DUPLICATE_KEY = 11000;

type Stored<T> = Omit<T, 'id'> & { _id: string; _position: number; _deleted?: boolean };
type Filter = Record<string, unknown>;

function toFilter<T>(where: Where<T> | undefined): Filter {
  const filter: Filter = { _deleted: { $ne: true } };
  for (const [field, value] of Object.entries(where ?? {})) {
    filter[field === 'id' ? '_id' : field] = value;
  }
  return filter;
}

function fromStored<T extends { id: string }>(stored: Stored<T>): T {
  const { _id, _position, _deleted, ...rest } = stored;
  return { ...(rest as unknown as Omit<T, 'id'>), id: _id } as T;
}

class MongoCollection<T extends { id: string }> implements ReadModelCollection<T> {
  constructor(
    private readonly connection: Connection,
    private readonly name: string,
    /** Indexes created (or being created) by this store, by collection, filter fields and sort field. */
    private readonly indexed: Set<string>,
  ) {}

  /** An index for each query shape, created the first time the shape is asked for, as the in-memory store keeps one. */
  private async ensureIndex(where: Filter, sortField: string): Promise<void> {
    const fields = Object.keys(where).filter((field) => !field.startsWith('$') && field !== '_deleted' && field !== sortField).sort();
    const key = `${this.name}|${fields.join(',')}|${sortField}`;
    if (this.indexed.has(key)) return;
    this.indexed.add(key);
    const spec: Record<string, 1> = Object.fromEntries([...fields, sortField, '_id'].map((field) => [field, 1 as const]));
    await this.native.createIndex(spec).catch(() => this.indexed.delete(key));
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
    await this.ensureIndex(toFilter(query.where), field);
    const sort: Record<string, 1 | -1> = { [field]: direction, _id: direction };
    const found = (await this.native.find(filter as never).sort(sort).limit(query.limit + 1).toArray()) as unknown as Stored<T>[];
    const items = found.slice(0, query.limit).map((stored) => fromStored<T>(stored));
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: found.length > query.limit && last ? encodeCursor(last[orderBy as keyof T], last.id) : null,
    };
  }

  async findAll(where?: Where<T>): Promise<T[]> {
    const found = (await this.native.find(toFilter(where) as never).sort({ _id: 1 }).toArray()) as unknown as Stored<T>[];
    return found.map((stored) => fromStored<T>(stored));
  }

  async count(where?: Where<T>): Promise<number> {
    return this.native.countDocuments(toFilter(where) as never);
  }

  async clear(): Promise<void> {
    await this.native.deleteMany({});
  }
}

class MongoCheckpointStore extends CheckpointStore {
  constructor(private readonly connection: Connection) {
    super();
  }

  async get(name: string): Promise<Checkpoint | undefined> {
    const stored = await this.connection
      .collection<{ _id: string; position: number; version: number }>(CHECKPOINTS)
      .findOne({ _id: name });
    return stored ? { position: stored.position, version: stored.version } : undefined;
  }

  async set(name: string, checkpoint: Checkpoint): Promise<void> {
    await this.connection
      .collection<{ _id: string; position: number; version: number }>(CHECKPOINTS)
      .replaceOne({ _id: name }, checkpoint, { upsert: true });
  }
}

/** The distributed read side: one MongoDB collection per read model, checkpoints beside them. */
export class MongoReadStore extends ReadStore {
  readonly checkpoints: CheckpointStore;

  private readonly indexed = new Set<string>();

  private constructor(private readonly connection: Connection) {
    super();
    this.checkpoints = new MongoCheckpointStore(connection);
  }

  static async connect(uri: string): Promise<MongoReadStore> {
    const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
    return new MongoReadStore(connection);
  }

  collection<T extends { id: string }>(name: string): ReadModelCollection<T> {
    return new MongoCollection<T>(this.connection, name, this.indexed);
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
