import {
  ANY,
  type AllStreamResolvedEvent,
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { Logger } from '@nestjs/common';
import type { DomainEvent, EventMetadata } from '@diyml/core/pure';
import { eventIdsFor } from '../event-ids.js';
import {
  type AppendOptions,
  type AppendResult,
  EventStore,
  type ReadAllOptions,
  type RecordedEvent,
  type Subscription,
  type SubscriptionHandler,
} from '../event-store.port.js';
import { Upcasters } from '../upcasters.js';
import { wrongExpectedRevision } from '../wrong-expected-revision.error.js';

type StoredMetadata = EventMetadata & { v: number };

const RESUBSCRIBE_DELAY_MS = 1000;
/** Records read per request when paging $all (system records included). */
const READ_PAGE = 500;
/** Tries of one append when the server did not answer; the same event ids make a repeat a no-op. */
const APPEND_TRIES = 3;

const isSystemRecord = (resolved: AllStreamResolvedEvent) => !resolved.event || resolved.event.type.startsWith('$');

/**
 * The distributed event store: EventStoreDB / KurrentDB. The global position of an event is its prepare
 * position in the transaction log, unique per event even inside a multi-event append.
 */
export class EsdbEventStore extends EventStore {
  private readonly logger = new Logger(EsdbEventStore.name);
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<Subscription>();

  /** `connection`: a connection string, or a client (tests pass one that plays the server). */
  constructor(
    connection: string | EventStoreDBClient,
    private readonly upcasters: Upcasters = new Upcasters(),
  ) {
    super();
    this.client = typeof connection === 'string' ? EventStoreDBClient.connectionString(connection) : connection;
  }

  async append(streamId: string, events: readonly DomainEvent[], options: AppendOptions): Promise<AppendResult> {
    const expectedRevision =
      options.expectedRevision === 'no_stream'
        ? NO_STREAM
        : options.expectedRevision === 'any'
          ? ANY
          : BigInt(options.expectedRevision);
    // Ids are chosen once (or given by the writer), so when an append is sent again after the answer was lost,
    // EventStoreDB recognises the events and does not write them twice (idempotent writes).
    const ids = eventIdsFor(events, options.eventIds);
    const recorded = events.map((event, index) =>
      jsonEvent({
        id: ids[index],
        type: event.type,
        data: event.data as Record<string, unknown>,
        metadata: { ...options.metadata, v: event.v },
      }),
    );
    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await this.client.appendToStream(streamId, recorded, { expectedRevision });
        return {
          revision: Number(result.nextExpectedRevision),
          position: Number(result.position?.prepare ?? -1n),
        };
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          const actual = error.actualVersion;
          throw wrongExpectedRevision(
            streamId,
            options.expectedRevision,
            typeof actual === 'bigint' ? Number(actual) : 'no_stream',
          );
        }
        const unanswered = error instanceof DeadlineExceededError || error instanceof UnavailableError;
        if (!unanswered || attempt >= APPEND_TRIES) throw error;
        this.logger.warn(`Appending to ${streamId} got no answer (${(error as Error).message}); sending it again`);
      }
    }
  }

  async readStream(streamId: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, { direction: FORWARDS, fromRevision: START })) {
        events.push(this.toRecorded(resolved));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  /** Pages through $all until `limit` events are found, skipping system records, which count in maxCount. */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    let seen = options.after ?? -1;
    let from: ReadPosition = seen < 0 ? START : { commit: BigInt(seen), prepare: BigInt(seen) };
    const events: RecordedEvent[] = [];
    for (;;) {
      // The read starts at `from` inclusive, so one more record than needed.
      const pageSize = Math.min(READ_PAGE, limit - events.length + 1);
      let records = 0;
      let last: Position | undefined;
      for await (const resolved of this.client.readAll({
        direction: FORWARDS,
        fromPosition: from,
        maxCount: pageSize,
      })) {
        records += 1;
        last = resolved.event?.position ?? last;
        if (isSystemRecord(resolved)) continue;
        const event = this.toRecorded(resolved);
        if (event.position <= seen) continue;
        events.push(event);
        seen = event.position;
        if (events.length >= limit) return events;
      }
      if (records < pageSize || !last) return events;
      from = last;
      seen = Math.max(seen, Number(last.prepare));
    }
  }

  /** The last event that is not a system record, however many system records follow it. */
  async headPosition(): Promise<number> {
    let from: ReadPosition = END;
    for (;;) {
      let records = 0;
      let last: Position | undefined;
      for await (const resolved of this.client.readAll({
        direction: BACKWARDS,
        fromPosition: from,
        maxCount: READ_PAGE,
      })) {
        records += 1;
        if (!isSystemRecord(resolved)) return this.toRecorded(resolved).position;
        last = resolved.event?.position ?? last;
      }
      if (records < READ_PAGE || !last) return -1;
      from = last;
    }
  }

  subscribeToAll(after: number, handler: SubscriptionHandler): Subscription {
    let closed = false;
    let current: ReturnType<EventStoreDBClient['subscribeToAll']> | undefined;
    let position = after;
    const run = async () => {
      while (!closed) {
        try {
          current = this.client.subscribeToAll({
            fromPosition: position < 0 ? START : { commit: BigInt(position), prepare: BigInt(position) },
            filter: excludeSystemEvents(),
          });
          for await (const resolved of current as AsyncIterable<AllStreamResolvedEvent>) {
            if (closed) break;
            if (!resolved.event) continue;
            const event = this.toRecorded(resolved);
            if (event.position <= position) continue;
            await handler(event);
            position = event.position;
          }
        } catch (error) {
          // Leaving the loop does not end the server-side subscription; only unsubscribe() cancels it.
          await current?.unsubscribe().catch(() => {});
          if (closed) break;
          this.logger.error(`Subscription dropped at position ${position}, resubscribing: ${String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS));
        }
      }
    };
    const running = run();
    const subscription: Subscription = {
      close: async () => {
        closed = true;
        await current?.unsubscribe();
        await running;
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  private toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent {
    const event = resolved.event!;
    // Events written by other tools may carry no metadata (or not ours): fill in what a projection needs.
    const stored = (
      event.metadata && typeof event.metadata === 'object' ? event.metadata : {}
    ) as Partial<StoredMetadata>;
    const { v, ...known } = stored;
    const metadata: EventMetadata = {
      userId: known.userId ?? null,
      correlationId: known.correlationId ?? event.id,
      causationId: known.causationId ?? null,
      at: known.at ?? event.created.toISOString(),
    };
    return this.upcasters.apply({
      id: event.id,
      streamId: event.streamId,
      revision: Number(event.revision),
      position: Number(event.position?.prepare ?? resolved.commitPosition ?? -1n),
      type: event.type,
      v: v ?? 1,
      data: event.data,
      metadata,
    });
  }
}
