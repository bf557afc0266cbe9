import { SetMetadata } from '@nestjs/common';
import type { DomainEvent } from '@diyml/core/pure';
import type { Recorded, RecordedEvent } from '@diyml/event-store';
import type { ReadModelCollection, ReadStore } from './read-store.port.js';

/**
 * Builds read models from the log. `apply` must be deterministic (times and ids come from the event)
 * and go through `ReadModelCollection.apply`, which makes a repeated event a no-op. `TEvent` is the union of the
 * events it reads: the runner calls `apply` only for the types listed in `eventTypes`.
 */
export interface Projection<TEvent extends DomainEvent = DomainEvent> {
  /** Stable name, also the checkpoint key. */
  readonly name: string;
  /** Bump to rebuild this read model from zero at the next start. */
  readonly version: number;
  /** Collections this projection owns; cleared on rebuild. */
  readonly collections: readonly string[];
  /** Event types it reads ('all' for every event); others are skipped without a call. */
  readonly eventTypes: readonly TEvent['type'][] | 'all';
  apply(event: Recorded<TEvent>, store: ReadStore): Promise<void>;
}

const READ_MODEL_PROJECTION = 'diyml:read-model-projection';

/**
 * Marks a provider as a Projection for the ProjectionRunner to find. Plain metadata rather than
 * DiscoveryService.createDecorator, so projections and their specs load @nestjs/common only, not @nestjs/core.
 */
export const ReadModelProjection = (): ClassDecorator => SetMetadata(READ_MODEL_PROJECTION, true);

/** Whether `provider` is an instance of a class marked @ReadModelProjection(). */
export function isReadModelProjection(provider: unknown): provider is Projection {
  return (
    typeof provider === 'object' &&
    provider !== null &&
    Reflect.getMetadata(READ_MODEL_PROJECTION, provider.constructor) === true
  );
}

/**
 * Applies a change to the existing document of an event's stream and records the stream revision it now
 * reflects (exposed as ETag). A document that does not exist stays absent: the event that creates it comes
 * first in its stream.
 */
export function updateStreamDocument<T extends { id: string; revision: number }>(
  collection: ReadModelCollection<T>,
  id: string,
  recorded: Pick<RecordedEvent, 'position' | 'revision'>,
  change: (view: T) => Partial<T>,
): Promise<void> {
  return collection.apply(id, recorded.position, (view) =>
    view ? { ...view, ...change(view), revision: recorded.revision } : null,
  );
}
