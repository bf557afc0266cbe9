/**
 * Who does what, when, and in which request. Handlers receive it from the HTTP layer (or a job) so that
 * deciders and projections never read the clock or invent ids themselves.
 */
export interface CommandMetadata {
  readonly userId: string | null;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly now: Date;
}

/** The metadata stored with every event. */
export interface EventMetadata {
  readonly userId: string | null;
  readonly correlationId: string;
  readonly causationId: string | null;
  /** ISO-8601 time the command was handled. */
  readonly at: string;
}

export function toEventMetadata(metadata: CommandMetadata): EventMetadata {
  return {
    userId: metadata.userId,
    correlationId: metadata.correlationId,
    causationId: metadata.causationId ?? null,
    at: metadata.now.toISOString(),
  };
}
