import { randomUUID } from 'node:crypto';
import { DomainError } from '@diyml/core/pure';

export const EVENT_ID_REUSED = 'EVENT_ID_REUSED';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An append carried an event id the log already has, but not as a repeat of that same append. */
export function eventIdReused(streamId: string): DomainError {
  return DomainError.conflict(
    EVENT_ID_REUSED,
    `An event id of this append to ${streamId} is already in the log for other events: give new events new ids.`,
    { streamId },
  );
}

/** Ids for the events of one append: the writer's, checked for shape and count, or new ones. */
export function eventIdsFor(events: readonly unknown[], given: readonly string[] | undefined): string[] {
  if (!given) return events.map(() => randomUUID());
  const ids = given.map((id) => id.toLowerCase());
  if (ids.length !== events.length || !ids.every((id) => UUID.test(id)) || new Set(ids).size !== ids.length) {
    throw DomainError.validation(
      'INVALID_EVENT_IDS',
      `An append needs one distinct UUID per event as its event ids (got ${given.length} ids for ${events.length} events).`,
    );
  }
  return ids;
}
