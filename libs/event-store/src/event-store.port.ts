import type { DomainEvent, EventMetadata } from '@diyml/core/pure';

/**
 * Expected revision of a stream at append time: the revision of its last event (0-based),
 * `'no_stream'` when it must not exist yet, or `'any'` to skip the check (only for streams written by one
 * writer, such as reservations).
 */
export type ExpectedRevision = number | 'no_stream' | 'any';

/** An event as stored: the domain event plus where it sits in its stream and in the whole log. */
export interface RecordedEvent<TEvent extends DomainEvent = DomainEvent> {
  /** The event's id (a UUID), unique in the whole log: given by the writer or chosen by the store. */
  readonly id: string;
  readonly streamId: string;
  /** 0-based index within the stream. */
  readonly revision: number;
  /** Position in the global log; strictly increasing, comparable across streams. */
  readonly position: number;
  readonly type: TEvent['type'];
  readonly v: number;
  readonly data: TEvent['data'];
  readonly metadata: EventMetadata;
}

export interface AppendResult {
  /** Revision of the last event appended. */
  readonly revision: number;
  /** Global position of the last event appended. */
  readonly position: number;
}

export interface AppendOptions {
  readonly expectedRevision: ExpectedRevision;
  readonly metadata: EventMetadata;
  /**
   * One UUID per event. An append sent again with the ids of one that was stored (its answer was lost) is
   * answered with the original revision and position instead of storing the events twice or failing; ids
   * that are in the log but not as exactly these events of this stream are refused (EVENT_ID_REUSED). Without
   * them the store chooses ids once per call, so its own resends after a lost answer are idempotent too.
   */
  readonly eventIds?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive: events after this position. -1 (default) reads from the start. */
  readonly after?: number;
  readonly limit?: number;
}

export interface Subscription {
  close(): Promise<void>;
}

export type SubscriptionHandler = (event: RecordedEvent) => Promise<void> | void;

/** The append-only log of everything that happened. One contract suite checks every adapter. */
export abstract class EventStore {
  /** Appends atomically; throws WRONG_EXPECTED_REVISION (409) when the stream moved on. */
  abstract append(streamId: string, events: readonly DomainEvent[], options: AppendOptions): Promise<AppendResult>;

  /** All events of a stream in order; empty when the stream does not exist. */
  abstract readStream(streamId: string): Promise<RecordedEvent[]>;

  /** Events of all streams in log order. */
  abstract readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  /** Position of the last event in the log, -1 when empty. */
  abstract headPosition(): Promise<number>;

  /**
   * Calls the handler for every event after `after`, in order, then for each new event as it is appended
   * (also by other processes). The handler is awaited: one event at a time.
   */
  abstract subscribeToAll(after: number, handler: SubscriptionHandler): Subscription;

  abstract close(): Promise<void>;
}
