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

/** The filter's fields with a value (an undefined value filters nothing). */
function filterOf<T>(where: Where<T> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(where ?? {}).filter(([, value]) => value !== undefined));
}

/**
 * The values a document is found under for one field: null when missing, each element of an array (a filter
 * on an array field matches the documents whose array holds the value, as in MongoDB).
 */
function keyValues(document: unknown, field: string): unknown[] {
  const value = (document as Record<string, unknown>)[field];
  if (Array.isArray(value)) return [...new Set(value)];
  return [value ?? null];
}

/** Names the filter fields an index groups by, whatever order a query gives them in. */
function fieldsKey(fields: readonly string[]): string {
  return [...fields].sort().join(',');
}

/** Where `marker` would go in `sorted`: the first position whose document is not before it. */
function lowerBound<T>(sorted: readonly T[], marker: T, order: (a: T, b: T) => number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (order(sorted[middle], marker) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The documents of a collection grouped by the values of some fields, each group kept sorted by one field (then
 * id). Built the first time a query filters on those fields and sorts by that one, then kept up to date by
 * every apply, so a page is a binary search and a slice instead of a scan and a sort of the whole collection.
 */
class SortedIndex<T extends { id: string }> {
  private readonly groups = new Map<string, T[]>();

  constructor(
    private readonly fields: readonly string[],
    readonly order: (a: T, b: T) => number,
  ) {}

  /** Fills the index from scratch: one sort per group rather than one insertion per document. */
  fill(documents: Iterable<T>): void {
    for (const document of documents) {
      for (const key of this.keysOf(document)) {
        const group = this.groups.get(key);
        if (group) group.push(document);
        else this.groups.set(key, [document]);
      }
    }
    for (const group of this.groups.values()) group.sort(this.order);
  }

  add(document: T): void {
    for (const key of this.keysOf(document)) {
      const group = this.groups.get(key);
      if (!group) this.groups.set(key, [document]);
      else group.splice(lowerBound(group, document, this.order), 0, document);
    }
  }

  remove(document: T): void {
    for (const key of this.keysOf(document)) {
      const group = this.groups.get(key);
      if (!group) continue;
      const at = lowerBound(group, document, this.order);
      if (group[at]?.id === document.id) group.splice(at, 1);
      if (!group.length) this.groups.delete(key);
    }
  }

  /**
   * The documents matching the filter (on exactly this index's fields), in index order: one group, or for
   * `{ in: [...] }` filters the groups of every combination of their values merged (a document whose array field
   * holds several of the values is in several groups, and listed once).
   */
  matching(filter: Record<string, unknown>): readonly T[] {
    let keys: unknown[][] = [[]];
    for (const field of this.fields) {
      const value = filter[field];
      const wanted = isAnyOf(value) ? [...new Set(value.in.map((one) => one ?? null))] : [value ?? null];
      keys = keys.flatMap((prefix) => wanted.map((one) => [...prefix, one]));
    }
    const group = (values: unknown[]) => this.groups.get(JSON.stringify(values)) ?? [];
    if (keys.length === 1) return group(keys[0]);
    const byId = new Map(keys.flatMap(group).map((document) => [document.id, document]));
    return [...byId.values()].sort(this.order);
  }

  private keysOf(document: T): string[] {
    let keys: unknown[][] = [[]];
    for (const field of this.fields)
      keys = keys.flatMap((prefix) => keyValues(document, field).map((value) => [...prefix, value]));
    return keys.map((values) => JSON.stringify(values));
  }
}

class InMemoryCollection<T extends { id: string }> implements ReadModelCollection<T> {
  readonly entries = new Map<string, Entry<T>>();
  /** By filter fields, then by sort field: see SortedIndex. */
  private readonly indexes = new Map<string, Map<string, SortedIndex<T>>>();

  async get(id: string): Promise<T | undefined> {
    return this.entries.get(id)?.document ?? undefined;
  }

  async apply(id: string, position: number, update: DocumentUpdate<T>): Promise<void> {
    const entry = this.entries.get(id);
    if (entry && entry.position >= position) return;
    const previous = entry?.document ?? undefined;
    const next = update(previous);
    const document = next === null ? null : Object.freeze(next);
    this.entries.set(id, { position, document });
    for (const byOrder of this.indexes.values()) {
      for (const index of byOrder.values()) {
        if (previous) index.remove(previous);
        if (document) index.add(document);
      }
    }
  }

  async find(query: FindQuery<T>): Promise<Page<T>> {
    const orderBy = query.orderBy ?? 'id';
    const filter = filterOf(query.where);
    const index = this.indexFor(Object.keys(filter), orderBy);
    const sorted = index.matching(filter);
    const descending = query.direction === 'desc';
    let at = descending ? sorted.length - 1 : 0;
    if (query.cursor) {
      const [value, id] = decodeCursor(query.cursor);
      const marker = { [orderBy]: value, id } as unknown as T;
      const bound = lowerBound(sorted, marker, index.order);
      const exact = sorted[bound] !== undefined && index.order(sorted[bound], marker) === 0;
      at = descending ? bound - 1 : exact ? bound + 1 : bound;
    }
    const items: T[] = [];
    for (; at >= 0 && at < sorted.length && items.length <= query.limit; at += descending ? -1 : 1)
      items.push(sorted[at]);
    const page = items.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = items.length > query.limit && last ? encodeCursor(last[orderBy as keyof T], last.id) : null;
    return { items: page, nextCursor };
  }

  async findAll(where?: Where<T>): Promise<T[]> {
    const filter = filterOf(where);
    return [...this.indexFor(Object.keys(filter), 'id').matching(filter)];
  }

  /**
   * A group's size is the same in any order: an index a list built on these fields answers, rather than one more
   * index (a reference to every document) per filter combination kept for counts alone.
   */
  async count(where?: Where<T>): Promise<number> {
    const filter = filterOf(where);
    const fields = Object.keys(filter);
    const existing = this.indexes.get(fieldsKey(fields))?.values().next().value;
    return (existing ?? this.indexFor(fields, 'id')).matching(filter).length;
  }

  async clear(): Promise<void> {
    this.entries.clear();
    this.indexes.clear();
  }

  private indexFor(fields: string[], orderBy: string): SortedIndex<T> {
    const key = fieldsKey(fields);
    let byOrder = this.indexes.get(key);
    if (!byOrder) {
      byOrder = new Map();
      this.indexes.set(key, byOrder);
    }
    let index = byOrder.get(orderBy);
    if (!index) {
      const order = (a: T, b: T) => compare(a[orderBy as keyof T], b[orderBy as keyof T]) || compare(a.id, b.id);
      index = new SortedIndex<T>([...fields].sort(), order);
      index.fill(this.live());
      byOrder.set(orderBy, index);
    }
    return index;
  }

  private *live(): Iterable<T> {
    for (const entry of this.entries.values()) if (entry.document) yield entry.document;
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

  async setAll(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<void> {
    for (const [name, checkpoint] of checkpoints) this.checkpoints.set(name, { ...checkpoint });
  }
}

/** The embedded read side: everything in memory, rebuilt from the log at start. */
export class InMemoryReadStore extends ReadStore {
  readonly sharedBetweenProcesses = false;
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

  /** Writes at once: nothing held back. */
  async flush(): Promise<void> {}

  /** One process's own read models: no other writer to fence off. */
  async claimWrites(): Promise<void> {}

  async collectionNames(): Promise<string[]> {
    return [...this.collections.entries()]
      .filter(([, collection]) => collection.entries.size > 0)
      .map(([name]) => name)
      .sort();
  }

  async close(): Promise<void> {}
}
