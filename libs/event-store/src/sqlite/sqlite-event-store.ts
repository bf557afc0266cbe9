import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DomainEvent, EventMetadata } from '../../../core/src/index.js';
import {
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

interface EventRow {
  position: number;
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
 * The embedded event store: one SQLite file in WAL mode. Appends take the write lock up front
 * (BEGIN IMMEDIATE), so an api and a worker process can share the file safely.
 */
export class SqliteEventStore extends EventStore {
  private readonly db: Database.Database;
  private readonly upcasters: Upcasters;
  private readonly appends = new EventEmitter();
  private readonly pollIntervalMs: number;
  private readonly subscriptions = new OpenSubscriptions();
  private readonly statements: {
    streamRevision: Database.Statement<[string], { revision: number | null }>;
    insert: Database.Statement<[string, number, string, number, string, string]>;
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
    this.upcasters = options.upcasters ?? new Upcasters();
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.appends.setMaxListeners(0);
    this.statements = {
      streamRevision: this.db.prepare('SELECT MAX(revision) AS revision FROM events WHERE stream_id = ?'),
      insert: this.db.prepare(
        'INSERT INTO events (stream_id, revision, type, v, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      readStream: this.db.prepare('SELECT * FROM events WHERE stream_id = ? ORDER BY revision'),
      readAll: this.db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      head: this.db.prepare('SELECT MAX(position) AS position FROM events'),
    };
  }

  async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedRevision: ExpectedRevision; metadata: EventMetadata },
  ): Promise<AppendResult> {
    return this.appendSync(streamId, events, options);
  }

  /** Synchronous append, for bulk writers such as benchmarks and imports. */
  appendSync(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedRevision: ExpectedRevision; metadata: EventMetadata },
  ): AppendResult {
    const metadata = JSON.stringify(options.metadata);
    const transaction = this.db.transaction((): AppendResult => {
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
      for (const event of events) {
        revision += 1;
        const result = this.statements.insert.run(
          streamId,
          revision,
          event.type,
          event.v,
          JSON.stringify(event.data),
          metadata,
        );
        position = Number(result.lastInsertRowid);
      }
      return { revision, position };
    });
    const result = transaction.immediate();
    if (events.length > 0) this.appends.emit('append', result.position);
    return result;
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
      pollingSubscription((position, limit) => this.readAllSync(position, limit), this.appends, after, handler, this.pollIntervalMs),
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
