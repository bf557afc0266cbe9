import type { CommandMetadata, Decider, DomainEvent } from '@diyml/core/pure';
import { assertRevisionMatches, foldEvents, toEventMetadata } from '@diyml/core';
import type { EventStore, ExpectedRevision } from './event-store.port.js';

export interface StreamState<TState> {
  readonly state: TState;
  /** Revision of the last event, -1 when the stream does not exist. */
  readonly revision: number;
}

export interface DecisionResult<TEvent extends DomainEvent> {
  readonly events: TEvent[];
  /** Stream revision after the append (unchanged when the decision was a no-op). */
  readonly revision: number;
  /** Global position of the last appended event, for read-your-writes; -1 for a no-op. */
  readonly position: number;
}

export async function loadStream<TState, TEvent extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<TState, unknown, TEvent>, 'initialState' | 'evolve'>,
): Promise<StreamState<TState>> {
  const recorded = await store.readStream(streamId);
  const state = foldEvents(decider, recorded as unknown as TEvent[]);
  return { state, revision: recorded.length > 0 ? recorded[recorded.length - 1].revision : -1 };
}

/**
 * Load, decide, append with the revision that was read: the only way command handlers change a stream.
 * `expectedRevision` (from If-Match) must equal the revision read, else the client saw a stale version.
 */
export async function decideAndAppend<TState, TCommand, TEvent extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Decider<TState, TCommand, TEvent>,
  command: TCommand,
  metadata: CommandMetadata,
  options: { expectedRevision?: number; onLoaded?: (loaded: StreamState<TState>) => void } = {},
): Promise<DecisionResult<TEvent>> {
  const loaded = await loadStream(store, streamId, decider);
  assertRevisionMatches(options.expectedRevision, loaded.revision);
  options.onLoaded?.(loaded);
  const events = decider.decide(command, loaded.state);
  if (events.length === 0) return { events, revision: loaded.revision, position: -1 };
  const expected: ExpectedRevision = loaded.revision < 0 ? 'no_stream' : loaded.revision;
  const appended = await store.append(streamId, events, {
    expectedRevision: expected,
    metadata: toEventMetadata(metadata),
  });
  return { events, revision: appended.revision, position: appended.position };
}
