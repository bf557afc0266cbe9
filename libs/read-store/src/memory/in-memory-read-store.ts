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

/**
 * Documents are immutable values: a projection builds the next version of a document instead of changing the
 * one it read (frozen here, so a mistake fails loudly), which lets reads share them without copying.
 */
interface Entry<T> {
  position: number;
  /** null: deleted, kept as a tombstone so a repeated older event cannot resurrect it. */
  document: T | null;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  return (a as number | string) < (b as number | string) ? -1 : 1;
}

function matches<T>(document: T, where: Where<T> | undefined): boolean {
  if (!where) return true;
  return Object.entries(where).every(([field, expected]) => {
    const actual = (document as Record<string, unknown>)[field];
    return expected === null ? actual === null || actual === undefined : actual === expected;
  });
}

class InMemoryCollection<T extends { id: string }> implements ReadModelCollection<T> {
  readonly entries = new Map<string, Entry<T>>();

  async get(id: string): Promise<T | undefined> {
    return this.entries.get(id)?.document ?? undefined;
  }

  async apply(id: string, position: number, update: DocumentUpdate<T>): Promise<void> {
    const entry = this.entries.get(id);
    if (entry && entry.position >= position) return;
    const next = update(entry?.document ?? undefined);
    this.entries.set(id, { position, document: next === null ? null : Object.freeze(next) });
  }

  async find(query: FindQuery<T>): Promise<Page<T>> {
    const orderBy = query.orderBy ?? 'id';
    const sign = query.direction === 'desc' ? -1 : 1;
    const order = (a: T, b: T) =>
      sign * (compare(a[orderBy as keyof T], b[orderBy as keyof T]) || compare(a.id, b.id));
    let items = this.live().filter((document) => matches(document, query.where)).sort(order);
    if (query.cursor) {
      const [value, id] = decodeCursor(query.cursor);
      const marker = { [orderBy]: value, id } as unknown as T;
      items = items.filter((document) => order(document, marker) > 0);
    }
    const page = items.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor =
      items.length > query.limit && last ? encodeCursor(last[orderBy as keyof T], last.id) : null;
    return { items: page, nextCursor };
  }

  async findAll(where?: Where<T>): Promise<T[]> {
    return this.live()
      .filter((document) => matches(document, where))
      .sort((a, b) => compare(a.id, b.id));
  }

  async count(where?: Where<T>): Promise<number> {
    return this.live().filter((document) => matches(document, where)).length;
  }

  async clear(): Promise<void> {
    this.entries.clear();
  }

  private live(): T[] {
    const documents: T[] = [];
    for (const entry of this.entries.values()) if (entry.document) documents.push(entry.document);
    return documents;
  }
}

export class InMemoryCheckpointStore extends CheckpointStore {
  private readonly checkpoints = new Map<string, Checkpoint>();

  async get(name: string): Promise<Checkpoint | undefined> {
    return this.checkpoints.get(name);
  }

  async set(name: string, checkpoint: Checkpoint): Promise<void> {
    this.checkpoints.set(name, { ...checkpoint });
  }
}

/** The embedded read side: everything in memory, rebuilt from the log at start. */
export class InMemoryReadStore extends ReadStore {
  readonly checkpoints = new InMemoryCheckpointStore();
  private readonly collections = new Map<string, InMemoryCollection<{ id: string }>>();

  collection<T extends { id: string }>(name: string): ReadModelCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new InMemoryCollection();
      this.collections.set(name, collection);
    }
    return collection as unknown as ReadModelCollection<T>;
  }

  async collectionNames(): Promise<string[]> {
    return [...this.collections.entries()]
      .filter(([, collection]) => collection.entries.size > 0)
      .map(([name]) => name)
      .sort();
  }

  async close(): Promise<void> {}
}
