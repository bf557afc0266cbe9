import type { CommandMetadata } from '@diyml/core/pure';
import type { RecordedEvent } from '@diyml/event-store';

/**
 * Metadata for what a job records: on behalf of the user whose event queued it, in the same correlation,
 * caused by that event (named `<stream>@<revision>`).
 */
export function onBehalfOf(trigger: RecordedEvent): Omit<CommandMetadata, 'now'> {
  return {
    userId: trigger.metadata.userId,
    correlationId: trigger.metadata.correlationId,
    causationId: `${trigger.streamId}@${trigger.revision}`,
  };
}
