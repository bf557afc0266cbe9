import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import {
  AdvisoryLock,
  createPostgresPool,
  DIYML_LOCK_SPACE,
  type DomainEvent,
  type EventMetadata,
  inTransaction,
  migrate,
} from '../../../core/src/index.js';
import {
  type AppendResult,
  EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type RecordedEvent,
  type Subscription,
  type SubscriptionHandler,
} from '../event-store.port.js';
import { pollingSubscription } from '../polling-subscription.js';
import { Upcasters } from '../upcasters.js';
import { wrongExpectedRevision } from '../wrong-expected-revision.error.js';
import { EVENT_STORE_MIGRATIONS } from './postgres-event-store.migrations.js';

/** The NOTIFY channel an append announces its last position on. */
export const EVENTS_CHANNEL = 'diyml_events';
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
}

/**
 * The event log in PostgreSQL. Each append takes a transaction-scoped advisory lock before it reads the head,
 * so appends commit one after the other: positions are gapless and a reader never sees position n+1 before
 * n is committed, which is what lets subscriptions read "everything after my position" without skipping.
 * Appends announce themselves with NOTIFY; subscriptions LISTEN and poll as a fallback.
 */
export class PostgresEventStore extends EventStore {
  private readonly logger = new Logger(PostgresEventStore.name);
  private readonly appends = new EventEmitter();
  private readonly subscriptions = new Set<Subscription>();
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
    const pool = createPostgresPool(options.url, { max: options.poolSize ?? 5, applicationName: 'diyml-event-store' });
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
    const result = await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [DIYML_LOCK_SPACE, AdvisoryLock.eventAppends]);
      const { rows } = await client.query<{ revision: number | null; head: string | null }>(
        `SELECT (SELECT max(revision) FROM events WHERE stream_id = $1) AS revision,
                (SELECT max(position) FROM events) AS head`,
        [streamId],
      );
      const current = rows[0].revision;
      const { expectedRevision } = options;
      if (expectedRevision === 'no_stream' && current !== null) {
        throw wrongExpectedRevision(streamId, expectedRevision, current);
      }
      if (typeof expectedRevision === 'number' && expectedRevision !== (current ?? -1)) {
        throw wrongExpectedRevision(streamId, expectedRevision, current ?? 'no_stream');
      }
      const firstRevision = (current ?? -1) + 1;
      const firstPosition = Number(rows[0].head ?? 0) + 1;
      if (events.length === 0) return { revision: firstRevision - 1, position: firstPosition - 1 };
      const metadata = JSON.stringify(options.metadata);
      await client.query(
        `INSERT INTO events (position, stream_id, revision, type, v, data, metadata)
         SELECT $1::bigint + i - 1, $2, $3::integer + i - 1, type, v, data, $7::json
         FROM unnest($4::text[], $5::integer[], $6::json[]) WITH ORDINALITY AS e(type, v, data, i)`,
        [
          firstPosition,
          streamId,
          firstRevision,
          events.map((event) => event.type),
          events.map((event) => event.v),
          events.map((event) => JSON.stringify(event.data)),
          metadata,
        ],
      );
      const last = { revision: firstRevision + events.length - 1, position: firstPosition + events.length - 1 };
      // Delivered at commit, to every listening process.
      await client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, String(last.position)]);
      return last;
    });
    if (events.length > 0) this.appends.emit('append', result.position);
    return result;
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
    const subscription = pollingSubscription(
      (position, limit) => this.readAfter(position, limit),
      this.appends,
      after,
      handler,
      this.pollIntervalMs,
    );
    this.subscriptions.add(subscription);
    return {
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    this.subscriptions.clear();
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
