import type { DomainEvent } from '@diyml/core/pure';
import type { EventStore, RecordedEvent } from './event-store.port.js';

/**
 * A stored event of a known union: unlike `RecordedEvent<A | B>`, narrowing on `type` narrows `data` too.
 * Readers that declare the types they read (projections, deciders over their own stream) receive these.
 */
export type Recorded<TEvent extends DomainEvent> = TEvent & Omit<RecordedEvent, 'type' | 'v' | 'data'>;

/**
 * The events of a stream that only its decider writes: each is of the decider's union, in its current
 * version (upcasters bring older ones up to date on read). The one place that trust is written down.
 */
export async function readStreamOf<TEvent extends DomainEvent>(
  store: EventStore,
  streamId: string,
): Promise<Recorded<TEvent>[]> {
  return (await store.readStream(streamId)) as Recorded<TEvent>[];
}
