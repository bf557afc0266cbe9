import type { CommandMetadata, Decider, DomainEvent } from '@diyml/core/pure';
import { assertRevisionMatches, foldEvents, isDomainError, toEventMetadata } from '@diyml/core';
import type { EventStore } from './event-store.port.js';
import { readStreamOf } from './recorded.js';
import { WRONG_EXPECTED_REVISION } from './wrong-expected-revision.error.js';

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

export interface CommandOutcome<TState, TEvent extends DomainEvent> extends DecisionResult<TEvent> {
  /** The state the command was decided on. */
  readonly before: TState;
}

/** How often a command is decided again on a fresh read after a concurrent append moved its stream on. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
}

/** The command, or how to build it from the state read and the metadata (built again on each attempt). */
export type CommandSource<TState, TCommand> =
  TCommand | ((state: TState, metadata: CommandMetadata) => TCommand | Promise<TCommand>);

export interface CommandRequest<TState, TCommand, TEvent extends DomainEvent> {
  readonly streamId: string;
  readonly decider: Decider<TState, TCommand, TEvent>;
  readonly command: CommandSource<TState, TCommand>;
  readonly metadata: CommandMetadata;
  /** The revision the client read (If-Match): 412 when the stream is elsewhere; such a command is never retried. */
  readonly expectedRevision?: number;
  /** Only for commands whose outcome a re-decision on newer state keeps right (claims, counters, idempotent steps). */
  readonly retry?: RetryPolicy;
}

function isCommandFactory<TState, TCommand>(
  source: CommandSource<TState, TCommand>,
): source is (state: TState, metadata: CommandMetadata) => TCommand | Promise<TCommand> {
  return typeof source === 'function';
}

export async function loadStream<TState, TEvent extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<TState, unknown, TEvent>, 'initialState' | 'evolve'>,
): Promise<StreamState<TState>> {
  const recorded = await readStreamOf<TEvent>(store, streamId);
  const state = foldEvents(decider, recorded);
  return { state, revision: recorded.length > 0 ? recorded[recorded.length - 1].revision : -1 };
}

/**
 * Load, decide, append with the revision that was read: the only way a stream changes. A concurrent append
 * is a 409 WRONG_EXPECTED_REVISION, or, for a command declared safe to retry, a new load and decision.
 */
export async function handleCommand<TState, TCommand, TEvent extends DomainEvent>(
  store: EventStore,
  request: CommandRequest<TState, TCommand, TEvent>,
): Promise<CommandOutcome<TState, TEvent>> {
  const { streamId, decider, metadata, expectedRevision } = request;
  const attempts = expectedRevision === undefined ? Math.max(1, request.retry?.attempts ?? 1) : 1;
  for (let attempt = 1; ; attempt += 1) {
    const loaded = await loadStream(store, streamId, decider);
    const source = request.command;
    const command = isCommandFactory(source) ? await source(loaded.state, metadata) : source;
    assertRevisionMatches(expectedRevision, loaded.revision);
    const events = decider.decide(command, loaded.state);
    if (events.length === 0) return { events, revision: loaded.revision, position: -1, before: loaded.state };
    try {
      const appended = await store.append(streamId, events, {
        expectedRevision: loaded.revision < 0 ? 'no_stream' : loaded.revision,
        metadata: toEventMetadata(metadata),
      });
      return { events, revision: appended.revision, position: appended.position, before: loaded.state };
    } catch (error) {
      if (attempt >= attempts || !isDomainError(error, WRONG_EXPECTED_REVISION)) throw error;
    }
  }
}
