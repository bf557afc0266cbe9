import { DiscoveryService } from '@nestjs/core';
import type { RecordedEvent } from '@diyml/event-store';

/**
 * Turns events into side effects (a job on a queue). Unlike a projection, which every replica applies to
 * its read models, a reactor runs in exactly one process at a time, under a lease, with its own position.
 */
export interface Reactor {
  /** Stable name: the lease and position key. */
  readonly name: string;
  readonly eventTypes: readonly string[];
  /** Must be safe to repeat for an event (a replica that took over may see it again): deduplicate by id. */
  react(event: RecordedEvent): Promise<void>;
}

/** Marks a provider as a Reactor for the ReactorRunner to find. */
export const EventReactor = DiscoveryService.createDecorator<void>();
