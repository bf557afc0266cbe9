import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DomainEvent, EventMetadata } from '@diyml/core/pure';
import { eventIdReused, eventIdsFor } from '../event-ids.js';
import {
  type AppendOptions,
  type AppendResult,
  EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type RecordedEvent,
  type Subscription,
  type SubscriptionHandler,
} from '../event-store.port.js';
import { OpenSubscriptions, pollingSubscription } from '../polling-subscription.js';
import { Upcasters } from '../upcasters.js';
import { wrongExpectedRevision } from '../wrong-expected-revision.error.js';
import { RecentEvents } from './recent-events.js';

interface EventRow {
  position: number;
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  v: number;
  data: string;
  metadata: string;
}

export interface SqliteEventStoreOptions {
  /** File path, or ':memory:' for tests. */
  readonly filename: string;
  readonly upcasters?: Upcasters;
  /** How often to look for events appended by other processes. */
  readonly pollIntervalMs?: number;
}

/**
 * Events kept for the subscriptions to share: one subscription batch. Following the log, subscriptions are a few
 * events apart; one further behind reads from SQLite. Few, as they stay in memory long enough to be promoted.
 */
const RECENT_EVENTS_HELD = 1000;

/**
 * The embedded event store: one SQLite file in WAL mode. Appends take the write lock up front
 * (BEGIN IMMEDIATE), so an api and a worker process can share the file safely.
 */
export class SqliteEventStore extends EventStore {
  private readonly db: Database.Database;
  private readonly upcasters: Upcasters;
  private readonly appends = new EventEmitter();
  private readonly pollIntervalMs: number;
  private readonly subscriptions = new OpenSubscriptions();
  private readonly recent = new RecentEvents(RECENT_EVENTS_HELD);
  private readonly statements: {
    streamRevision: Database.Statement<[string], { revision: number | null }>;
    insert: Database.Statement<[string, string, number, string, number, string, string]>;
    byEventId: Database.Statement<[string], { stream_id: string; revision: number; position: number }>;
    readStream: Database.Statement<[string], EventRow>;
    readAll: Database.Statement<[number, number], EventRow>;
    head: Database.Statement<[], { position: number | null }>;
  };

  constructor(options: SqliteEventStoreOptions) {
    super();
    if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
    this.db = new Database(options.filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        type TEXT NOT NULL,
        v INTEGER NOT NULL,
        data TEXT NOT NULL,
        metadata TEXT NOT NULL,
        UNIQUE (stream_id, revision)
      );
    `);
    this.addEventIds();
    this.upcasters = options.upcasters ?? new Upcasters();
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.appends.setMaxListeners(0);
    this.statements = {
      streamRevision: this.db.prepare('SELECT MAX(revision) AS revision FROM events WHERE stream_id = ?'),
      insert: this.db.prepare(
        'INSERT INTO events (event_id, stream_id, revision, type, v, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      byEventId: this.db.prepare('SELECT stream_id, revision, position FROM events WHERE event_id = ?'),
      readStream: this.db.prepare('SELECT * FROM events WHERE stream_id = ? ORDER BY revision'),
      readAll: this.db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      head: this.db.prepare('SELECT MAX(position) AS position FROM events'),
    };
  }

  async append(streamId: string, events: readonly DomainEvent[], options: AppendOptions): Promise<AppendResult> {
    return this.appendSync(streamId, events, options);
  }

  /** Synchronous append, for bulk writers such as benchmarks and imports. */
  appendSync(streamId: string, events: readonly DomainEvent[], options: AppendOptions): AppendResult {
    const metadata = JSON.stringify(options.metadata);
    const ids = eventIdsFor(events, options.eventIds);
    let appended = false;
    const transaction = this.db.transaction((): AppendResult => {
      const repeated = this.repeatedAppend(streamId, ids, options.expectedRevision);
      if (repeated) return repeated;
      const current = this.statements.streamRevision.get(streamId)?.revision ?? null;
      const { expectedRevision } = options;
      if (expectedRevision === 'no_stream' && current !== null) {
        throw wrongExpectedRevision(streamId, expectedRevision, current);
      }
      if (typeof expectedRevision === 'number' && expectedRevision !== (current ?? -1)) {
        throw wrongExpectedRevision(streamId, expectedRevision, current ?? 'no_stream');
      }
      let revision = current ?? -1;
      let position = -1;
      for (const [index, event] of events.entries()) {
        revision += 1;
        const result = this.statements.insert.run(
          ids[index],
          streamId,
          revision,
          event.type,
          event.v,
          JSON.stringify(event.data),
          metadata,
        );
        position = Number(result.lastInsertRowid);
      }
      appended = events.length > 0;
      return { revision, position };
    });
    const result = this.withEventIdsChecked(streamId, () => transaction.immediate());
    if (appended) {
      this.recent.appended();
      this.appends.emit('append', result.position);
    }
    return result;
  }

  /**
   * The original answer when these ids are already this stream's events right after the expected revision
   * (the append is sent again after its answer was lost); a refusal when the first id is in the log otherwise.
   */
  private repeatedAppend(
    streamId: string,
    ids: readonly string[],
    expected: ExpectedRevision,
  ): AppendResult | undefined {
    if (ids.length === 0) return undefined;
    const first = this.statements.byEventId.get(ids[0]);
    if (!first) return undefined;
    const stored = ids.map((id) => this.statements.byEventId.get(id));
    const same = stored.every(
      (event, index) => event?.stream_id === streamId && event.revision === first.revision + index,
    );
    const expectedMatches = expected === 'any' || (expected === 'no_stream' ? -1 : expected) === first.revision - 1;
    if (!same || !expectedMatches) throw eventIdReused(streamId);
    return { revision: first.revision + ids.length - 1, position: stored[stored.length - 1]!.position };
  }

  /** An id of the append that is already in the log for another event is refused as reused. */
  private withEventIdsChecked<T>(streamId: string, append: () => T): T {
    try {
      return append();
    } catch (error) {
      // By code, not instanceof: the native addon keeps the SqliteError class of the first copy of better-sqlite3
      // loaded in the process, which need not be this module's (a test runner may load a module more than once).
      const { code, message } = error as { code?: unknown; message?: unknown };
      if (code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof message === 'string' && message.includes('event_id')) {
        throw eventIdReused(streamId);
      }
      throw error;
    }
  }

  /** Logs written before event ids get one id per event, once. */
  private addEventIds(): void {
    const hasEventIds = () =>
      this.db
        .prepare<[], { name: string }>('PRAGMA table_info(events)')
        .all()
        .some((column) => column.name === 'event_id');
    if (hasEventIds()) return;
    this.db
      .transaction(() => {
        // Another process sharing the file may have added them while this one waited for the write lock.
        if (hasEventIds()) return;
        this.db.exec('ALTER TABLE events ADD COLUMN event_id TEXT');
        const positions = this.db.prepare<[], { position: number }>('SELECT position FROM events').all();
        const setId = this.db.prepare<[string, number]>('UPDATE events SET event_id = ? WHERE position = ?');
        for (const { position } of positions) setId.run(randomUUID(), position);
        this.db.exec('CREATE UNIQUE INDEX events_event_id ON events (event_id)');
      })
      .immediate();
  }

  async readStream(streamId: string): Promise<RecordedEvent[]> {
    return this.statements.readStream.all(streamId).map((row) => this.toRecorded(row));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readAllSync(options.after ?? -1, options.limit ?? Number.MAX_SAFE_INTEGER);
  }

  async headPosition(): Promise<number> {
    return this.statements.head.get()?.position ?? -1;
  }

  subscribeToAll(after: number, handler: SubscriptionHandler): Subscription {
    return this.subscriptions.track(
      pollingSubscription(
        (position, limit) => this.recent.read(position, limit, (from, count) => this.readAllSync(from, count)),
        this.appends,
        after,
        handler,
        this.pollIntervalMs,
      ),
    );
  }

  async close(): Promise<void> {
    await this.subscriptions.closeAll();
    if (this.db.open) this.db.close();
  }

  private readAllSync(after: number, limit: number): RecordedEvent[] {
    return this.statements.readAll.all(after, limit).map((row) => this.toRecorded(row));
  }

  private toRecorded(row: EventRow): RecordedEvent {
    return this.upcasters.apply({
      id: row.event_id,
      streamId: row.stream_id,
      revision: row.revision,
      position: row.position,
      type: row.type,
      v: row.v,
      data: JSON.parse(row.data),
      metadata: JSON.parse(row.metadata) as EventMetadata,
    });
  }
}
