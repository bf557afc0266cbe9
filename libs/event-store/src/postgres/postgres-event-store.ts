import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { createPostgresPool, type DomainEvent, type EventMetadata, migrate } from '../../../core/src/index.js';
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
import { EVENT_STORE_MIGRATIONS, EVENTS_CHANNEL } from './postgres-event-store.migrations.js';

const LISTENER_RETRY_MS = 2000;

interface EventRow {
  position: string;
  stream_id: string;
  revision: number;
  type: string;
  v: number;
  data: unknown;
  metadata: EventMetadata;
}

export interface PostgresEventStoreOptions {
  readonly url: string;
  readonly upcasters?: Upcasters;
  /**
   * How often a subscription looks for new events when no notification arrived: the fallback for a lost
   * LISTEN connection. Notifications wake subscriptions at once.
   */
  readonly pollIntervalMs?: number;
  readonly poolSize?: number;
  /** false: appends answer before the server flushed them to disk (see POSTGRES_SYNCHRONOUS_COMMIT). */
  readonly synchronousCommit?: boolean;
}

/**
 * The event log in PostgreSQL. Each append is one call of append_events() (see the migrations), which takes a
 * transaction-scoped advisory lock before it reads the head, so appends commit one after the other: positions
 * are gapless and a reader never sees position n+1 before n is committed, which is what lets subscriptions read
 * "everything after my position" without skipping. Appends announce themselves with NOTIFY; subscriptions
 * LISTEN and poll as a fallback.
 */
export class PostgresEventStore extends EventStore {
  private readonly logger = new Logger(PostgresEventStore.name);
  private readonly appends = new EventEmitter();
  private readonly subscriptions = new OpenSubscriptions();
  private listener?: pg.Client;
  private listenerRetry?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly upcasters: Upcasters,
    private readonly pollIntervalMs: number,
  ) {
    super();
    this.appends.setMaxListeners(0);
  }

  /** Connects and migrates the schema. */
  static async connect(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const pool = createPostgresPool(options.url, {
      max: options.poolSize ?? 5,
      applicationName: 'diyml-event-store',
      synchronousCommit: options.synchronousCommit,
    });
    try {
      await migrate(pool, 'event-store', EVENT_STORE_MIGRATIONS);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresEventStore(pool, options.url, options.upcasters ?? new Upcasters(), options.pollIntervalMs ?? 1000);
  }

  async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedRevision: ExpectedRevision; metadata: EventMetadata },
  ): Promise<AppendResult> {
    const { expectedRevision } = options;
    // 'no_stream' is "the last revision is -1", which is how the function compares; 'any' skips the check.
    const expected = expectedRevision === 'any' ? null : expectedRevision === 'no_stream' ? -1 : expectedRevision;
    const { rows } = await this.pool.query<{ current_revision: number | null; last_revision: number | null; last_position: string | null }>(
      'SELECT * FROM append_events($1, $2, $3, $4, $5, $6)',
      [
        streamId,
        expected,
        events.map((event) => event.type),
        events.map((event) => event.v),
        events.map((event) => JSON.stringify(event.data)),
        JSON.stringify(options.metadata),
      ],
    );
    const { current_revision: current, last_revision: revision, last_position: position } = rows[0];
    if (revision === null || position === null) {
      throw wrongExpectedRevision(streamId, expectedRevision, current ?? 'no_stream');
    }
    if (events.length > 0) this.appends.emit('append', Number(position));
    return { revision, position: Number(position) };
  }

  async readStream(streamId: string): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      'SELECT * FROM events WHERE stream_id = $1 ORDER BY revision',
      [streamId],
    );
    return rows.map((row) => this.toRecorded(row));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readAfter(options.after ?? -1, options.limit);
  }

  async headPosition(): Promise<number> {
    const { rows } = await this.pool.query<{ head: string | null }>('SELECT max(position) AS head FROM events');
    return rows[0].head === null ? -1 : Number(rows[0].head);
  }

  subscribeToAll(after: number, handler: SubscriptionHandler): Subscription {
    this.listen();
    return this.subscriptions.track(
      pollingSubscription((position, limit) => this.readAfter(position, limit), this.appends, after, handler, this.pollIntervalMs),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.subscriptions.closeAll();
    clearTimeout(this.listenerRetry);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
    await this.pool.end();
  }

  private async readAfter(after: number, limit?: number): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      'SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT $2',
      [after, limit ?? null],
    );
    return rows.map((row) => this.toRecorded(row));
  }

  /** One LISTEN connection per store, opened with the first subscription and reopened when it drops. */
  private listen(): void {
    if (this.listener || this.closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'diyml-event-listener' });
    this.listener = client;
    const reconnect = (reason: string) => {
      if (this.listener !== client || this.closed) return;
      this.logger.warn(`The LISTEN connection failed (${reason}); polling until it is back`);
      this.listener = undefined;
      void client.end().catch(() => {});
      this.listenerRetry = setTimeout(() => this.listen(), LISTENER_RETRY_MS);
    };
    client.on('notification', (message) => this.appends.emit('append', Number(message.payload)));
    client.on('error', (error) => reconnect(error.message));
    client.on('end', () => reconnect('connection ended'));
    client
      .connect()
      .then(() => client.query(`LISTEN ${EVENTS_CHANNEL}`))
      // Events appended while the connection was down were not announced: wake subscriptions to look.
      .then(() => this.appends.emit('append', -1))
      .catch((error: Error) => reconnect(error.message));
  }

  private toRecorded(row: EventRow): RecordedEvent {
    return this.upcasters.apply({
      streamId: row.stream_id,
      revision: row.revision,
      position: Number(row.position),
      type: row.type,
      v: row.v,
      data: row.data,
      metadata: row.metadata,
    });
  }
}
