import {
  ANY,
  type AllStreamResolvedEvent,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  type ResolvedEvent,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { Logger } from '@nestjs/common';
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
import { Upcasters } from '../upcasters.js';
import { wrongExpectedRevision } from '../wrong-expected-revision.error.js';

type StoredMetadata = EventMetadata & { v: number };

const RESUBSCRIBE_DELAY_MS = 1000;

/**
 * The distributed event store: EventStoreDB / KurrentDB. The global position of an event is its prepare
 * position in the transaction log, unique per event even inside a multi-event append.
 */
export class EsdbEventStore extends EventStore {
  private readonly logger = new Logger(EsdbEventStore.name);
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<Subscription>();

  constructor(
    connectionString: string,
    private readonly upcasters: Upcasters = new Upcasters(),
  ) {
    super();
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedRevision: ExpectedRevision; metadata: EventMetadata },
  ): Promise<AppendResult> {
    const expectedRevision =
      options.expectedRevision === 'no_stream'
        ? NO_STREAM
        : options.expectedRevision === 'any'
          ? ANY
          : BigInt(options.expectedRevision);
    try {
      const result = await this.client.appendToStream(
        streamId,
        events.map((event) =>
          jsonEvent({
            type: event.type,
            data: event.data as Record<string, unknown>,
            metadata: { ...options.metadata, v: event.v },
          }),
        ),
        { expectedRevision },
      );
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
      throw error;
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

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? -1;
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    const events: RecordedEvent[] = [];
    const reading = this.client.readAll({
      direction: FORWARDS,
      fromPosition: after < 0 ? START : { commit: BigInt(after), prepare: BigInt(after) },
      maxCount: after < 0 ? limit : limit + 1,
    });
    for await (const resolved of reading) {
      if (!resolved.event || resolved.event.type.startsWith('$')) continue;
      const event = this.toRecorded(resolved);
      if (event.position <= after) continue;
      events.push(event);
      if (events.length >= limit) break;
    }
    return events;
  }

  async headPosition(): Promise<number> {
    for await (const resolved of this.client.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 50 })) {
      if (resolved.event && !resolved.event.type.startsWith('$')) return this.toRecorded(resolved).position;
    }
    return -1;
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
    const { v, ...metadata } = event.metadata as unknown as StoredMetadata;
    return this.upcasters.apply({
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
