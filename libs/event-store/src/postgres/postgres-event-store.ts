import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { createPostgresPool, type DomainEvent, type EventMetadata, migrate, postgresDriver } from '@diyml/core';
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
import { EVENT_STORE_MIGRATIONS, EVENTS_CHANNEL } from './postgres-event-store.migrations.js';

const LISTENER_RETRY_MS = 2000;
/** Most appends sent in one call of append_batch(). */
const MAX_BATCH_APPENDS = 200;
/** Sends of one batch when the answer is lost (connection cut): repeats are recognised by their event ids. */
const APPEND_TRIES = 3;
/** Reads of the log started ahead of their caller (see readAfter) kept at most. */
const MAX_READS_AHEAD = 8;

/** The columns a recorded event is made of: not recorded_at, which pg would parse into a Date per row for nothing. */
const EVENT_COLUMNS = 'position, event_id, stream_id, revision, type, v, data, metadata';

interface EventRow {
  position: string;
  event_id: string;
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

interface WaitingAppend {
  readonly streamId: string;
  readonly events: readonly DomainEvent[];
  readonly ids: readonly string[];
  readonly expectedRevision: ExpectedRevision;
  readonly metadata: EventMetadata;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

interface AppendRow {
  outcome: 'appended' | 'conflict' | 'repeat' | 'id_reused';
  current_revision: number | null;
  last_revision: number | null;
  last_position: string | null;
}

/**
 * The event log in PostgreSQL. Appends go to append_batch() (see the migrations), which takes a
 * transaction-scoped advisory lock before it reads the head, so appends commit one after the other: positions
 * are gapless and a reader never sees position n+1 before n is committed, which is what lets subscriptions read
 * "everything after my position" without skipping. Because the lock is held until the commit is flushed, a
 * process sends the appends of its concurrent writers together: while one call is in flight the next appends
 * wait, then go in one call, one transaction and one WAL flush (group commit); a lone writer waits for nobody.
 * Appends announce themselves with NOTIFY; subscriptions LISTEN and poll as a fallback.
 */
export class PostgresEventStore extends EventStore {
  private readonly logger = new Logger(PostgresEventStore.name);
  private readonly appends = new EventEmitter();
  private readonly subscriptions = new OpenSubscriptions();
  private waiting: WaitingAppend[] = [];
  private sending = false;
  private listener?: pg.Client;
  private listenerRetry?: NodeJS.Timeout;
  private closed = false;
  /** Reads started ahead, by `after:limit`, oldest first. */
  private readonly readsAhead = new Map<string, Promise<RecordedEvent[]>>();

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
    return new PostgresEventStore(
      pool,
      options.url,
      options.upcasters ?? new Upcasters(),
      options.pollIntervalMs ?? 1000,
    );
  }

  async append(streamId: string, events: readonly DomainEvent[], options: AppendOptions): Promise<AppendResult> {
    const ids = eventIdsFor(events, options.eventIds);
    return new Promise<AppendResult>((resolve, reject) => {
      this.waiting.push({
        streamId,
        events,
        ids,
        expectedRevision: options.expectedRevision,
        metadata: options.metadata,
        resolve,
        reject,
      });
      void this.sendWaiting();
    });
  }

  /** Sends the waiting appends, a batch at a time, until none is left; appends arriving meanwhile join the next batch. */
  private async sendWaiting(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.waiting.length > 0) await this.sendBatch(this.waiting.splice(0, MAX_BATCH_APPENDS));
    } finally {
      this.sending = false;
    }
  }

  private async sendBatch(batch: readonly WaitingAppend[]): Promise<void> {
    let rows: AppendRow[];
    try {
      rows = await this.callAppendBatch(batch);
    } catch (error) {
      // An append the server refused (e.g. an event id used before) must not fail the others: each alone.
      if (batch.length > 1 && isServerRefusal(error)) {
        for (const append of batch) await this.sendBatch([append]);
        return;
      }
      for (const append of batch) append.reject(isEventIdTaken(error) ? eventIdReused(append.streamId) : error);
      return;
    }
    let head = -1;
    rows.forEach((row, index) => {
      const append = batch[index];
      if (row.outcome === 'conflict') {
        append.reject(
          wrongExpectedRevision(append.streamId, append.expectedRevision, row.current_revision ?? 'no_stream'),
        );
      } else if (row.outcome === 'id_reused') {
        append.reject(eventIdReused(append.streamId));
      } else {
        const position = Number(row.last_position);
        if (row.outcome === 'appended' && append.events.length > 0) head = Math.max(head, position);
        append.resolve({ revision: row.last_revision!, position });
      }
    });
    if (head >= 0) this.appends.emit('append', head);
  }

  /**
   * One call of append_batch(), sent again when its answer was lost: it may have committed, and then the
   * event ids make the second call answer the first one's positions instead of appending twice.
   */
  private async callAppendBatch(batch: readonly WaitingAppend[]): Promise<AppendRow[]> {
    // 'no_stream' is "the last revision is -1", which is how the function compares; 'any' (null) skips the check.
    const expected = batch.map(({ expectedRevision }) =>
      expectedRevision === 'any' ? null : expectedRevision === 'no_stream' ? -1 : expectedRevision,
    );
    const events = batch.flatMap((append) => append.events);
    const values = [
      batch.map((append) => append.streamId),
      expected,
      batch.map((append) => append.events.length),
      batch.map((append) => JSON.stringify(append.metadata)),
      batch.flatMap((append) => append.ids),
      events.map((event) => event.type),
      events.map((event) => event.v),
      events.map((event) => JSON.stringify(event.data)),
    ];
    for (let attempt = 1; ; attempt += 1) {
      try {
        const { rows } = await this.pool.query<AppendRow>({
          name: 'append-batch',
          text: 'SELECT * FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8)',
          values,
        });
        return rows;
      } catch (error) {
        if (isServerRefusal(error) || attempt >= APPEND_TRIES || this.closed) throw error;
        this.logger.warn(
          `An append got no answer (${(error as Error).message}); sending it again with the same event ids`,
        );
      }
    }
  }

  async readStream(streamId: string): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>({
      name: 'read-stream',
      text: `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY revision`,
      values: [streamId],
    });
    return rows.map((row) => this.toRecorded(row));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? -1;
    return options.limit === undefined ? this.query(after, null) : this.readAfter(after, options.limit);
  }

  async headPosition(): Promise<number> {
    const { rows } = await this.pool.query<{ head: string | null }>('SELECT max(position) AS head FROM events');
    return rows[0].head === null ? -1 : Number(rows[0].head);
  }

  subscribeToAll(after: number, handler: SubscriptionHandler): Subscription {
    this.listen();
    return this.subscriptions.track(
      pollingSubscription(
        (position, limit) => this.readAfter(position, limit),
        this.appends,
        after,
        handler,
        this.pollIntervalMs,
      ),
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

  /**
   * Events after a position. A full batch starts the read of the next one at once, so a subscription catching up
   * handles one batch while the next comes. Only a full batch read ahead is used (events below the head never
   * change); a shorter one may lack events appended since, whose notification the caller already consumed.
   */
  private async readAfter(after: number, limit: number): Promise<RecordedEvent[]> {
    const key = `${after}:${limit}`;
    const ahead = this.readsAhead.get(key);
    this.readsAhead.delete(key);
    const early = await ahead?.catch(() => undefined);
    const events = early?.length === limit ? early : await this.query(after, limit);
    if (events.length === limit && !this.closed) {
      const next = events[events.length - 1].position;
      const read = this.query(next, limit);
      read.catch(() => this.readsAhead.delete(`${next}:${limit}`)); // asked for again, it is read again
      this.readsAhead.set(`${next}:${limit}`, read);
      if (this.readsAhead.size > MAX_READS_AHEAD) this.readsAhead.delete(this.readsAhead.keys().next().value!);
    }
    return events;
  }

  private async query(after: number, limit: number | null): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>({
      name: 'read-after',
      text: `SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`,
      values: [after, limit],
    });
    return rows.map((row) => this.toRecorded(row));
  }

  /** One LISTEN connection per store, opened with the first subscription and reopened when it drops. */
  private listen(): void {
    if (this.listener || this.closed) return;
    const client = new (postgresDriver().Client)({
      connectionString: this.url,
      application_name: 'diyml-event-listener',
    });
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
      id: row.event_id,
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

/**
 * The server answered with an error about the statement itself. Otherwise (connection cut, server shutting
 * down: SQLSTATE classes 08 and 57P) the call may or may not have committed.
 */
function isServerRefusal(error: unknown): boolean {
  return error instanceof postgresDriver().DatabaseError && !/^(08|57P)/.test(error.code ?? '');
}

function isEventIdTaken(error: unknown): boolean {
  return (
    error instanceof postgresDriver().DatabaseError && error.code === '23505' && error.constraint === 'events_event_id'
  );
}
