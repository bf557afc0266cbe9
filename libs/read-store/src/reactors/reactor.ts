import { DiscoveryService } from '@nestjs/core';
import type { DomainEvent } from '@diyml/core/pure';
import type { Recorded } from '@diyml/event-store';

/**
 * Turns events into side effects (a job on a queue). Unlike a projection, which every replica applies to
 * its read models, a reactor runs in exactly one process at a time, under a lease, with its own position.
 * `TEvent` is the union of the events it reacts to: the runner calls `react` only for the types in `eventTypes`.
 */
export interface Reactor<TEvent extends DomainEvent = DomainEvent> {
  /** Stable name: the lease and position key. */
  readonly name: string;
  readonly eventTypes: readonly TEvent['type'][];
  /** Must be safe to repeat for an event (a replica that took over may see it again): deduplicate by id. */
  react(event: Recorded<TEvent>): Promise<void>;
}

/** Marks a provider as a Reactor for the ReactorRunner to find. */
export const EventReactor = DiscoveryService.createDecorator<void>();
