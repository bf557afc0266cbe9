import type { Page } from '@diyml/core';
import { DomainError } from '@diyml/core/pure';

/** A write of a store whose claim on shared read models another store overtook (see ReadStore.claimWrites). */
export function writesClaimedElsewhere(): DomainError {
  return new DomainError(
    'conflict',
    'LEASE_LOST',
    'Another process projects the shared read models now; this one no longer writes them and follows that process.',
  );
}

/** The values a filter compares a field with: an array field's elements, else the field's own type. */
type FieldValue<Field> = NonNullable<Field> extends readonly (infer Element)[] ? Element : Field;

/** "Any of these values" for one field; `null` among them also matches a missing field. Empty: matches nothing. */
export interface AnyOf<Value> {
  in: readonly (Value | null)[];
}

/**
 * Equality filter on top-level fields; `null` also matches a missing field. On an array field the filter is one
 * element: it matches the documents whose array holds it (as MongoDB does). `{ in: [...] }` matches any of the
 * values (one query for the documents of many ids, rather than one per id).
 */
export type Where<T> = {
  [K in keyof T]?: FieldValue<T[K]> | null | AnyOf<FieldValue<T[K]>>;
};

/** Whether a filter value is `{ in: [...] }` rather than a value to equal. */
export function isAnyOf(value: unknown): value is AnyOf<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { in?: unknown }).in) &&
    Object.keys(value).length === 1
  );
}

export interface FindQuery<T> {
  where?: Where<T>;
  /** Field to sort by; ties are broken by id. Default: id. */
  orderBy?: keyof T & string;
  direction?: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

/** What a projection returns for a document: the new version, or null to delete it. */
export type DocumentUpdate<T> = (current: T | undefined) => T | null;

/**
 * A collection of read-model documents keyed by id. `apply` is idempotent: each document remembers the log
 * position of the last event applied to it, and an event at or before that position changes nothing.
 */
export interface ReadModelCollection<T extends { id: string }> {
  get(id: string): Promise<T | undefined>;
  apply(id: string, position: number, update: DocumentUpdate<T>): Promise<void>;
  find(query: FindQuery<T>): Promise<Page<T>>;
  /** Every document matching the filter, unpaged (for small sets: labels of a project, a user's tokens). */
  findAll(where?: Where<T>): Promise<T[]>;
  count(where?: Where<T>): Promise<number>;
  clear(): Promise<void>;
}

export interface Checkpoint {
  position: number;
  version: number;
}

/** Where projections and reactors remember how far into the log they got. */
export abstract class CheckpointStore {
  abstract get(name: string): Promise<Checkpoint | undefined>;
  abstract set(name: string, checkpoint: Checkpoint): Promise<void>;
  /** Saves several checkpoints in one write (one statement or request), e.g. every projection's at once. */
  abstract setAll(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<void>;
}

/** The read side: named collections of documents plus the checkpoints of the projections that fill them. */
export abstract class ReadStore {
  abstract collection<T extends { id: string }>(name: string): ReadModelCollection<T>;
  abstract readonly checkpoints: CheckpointStore;
  /**
   * Whether other processes read and write these same read models (PostgreSQL, MongoDB). Then one process at a
   * time projects into them and the others follow its checkpoints (see ProjectionRunner).
   */
  abstract readonly sharedBetweenProcesses: boolean;
  /** Names of collections holding documents, for replay verification. */
  abstract collectionNames(): Promise<string[]>;
  /**
   * Writes document changes the store holds back to send them together (the PostgreSQL store does; reads,
   * checkpoints and close write them first anyway). Other processes see a change once this resolved.
   */
  abstract flush(): Promise<void>;
  /**
   * Shared read models: makes this store the one whose document and checkpoint writes land, until another store
   * claims them (a fencing token). Writes of a store that was overtaken fail with LEASE_LOST and write nothing, so a
   * process that lost the projections lease mid-batch cannot write that batch. Held changes from before are dropped.
   * A store that never claimed writes unchecked (a process without a lease, tests). No-op for per-process stores.
   */
  abstract claimWrites(): Promise<void>;
  /**
   * The process stopped projecting (it lost the lease, or stops): a store that answers reads from what it wrote
   * while it held the claim must ask the tables again. Its writes stay refused once another store claims.
   */
  releaseWrites(): void {}
  abstract close(): Promise<void>;
}
