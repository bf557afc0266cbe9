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
  /** The stream id was just made (a new id): decided on the initial state without reading, appended as a new stream. */
  readonly newStream?: boolean;
  /** Where this append stands in an `AppendOrder`: it is issued after the earlier turns' appends were issued. */
  readonly turn?: AppendTurn;
}

/** One append's place in an `AppendOrder`. */
export interface AppendTurn {
  /** Resolves once every earlier turn issued its append or gave its turn up. */
  readonly previous: Promise<void>;
  /** This turn's append is issued (or none will be): later turns may go. */
  readonly done: () => void;
}

/**
 * Appends to several streams issued in the order their turns were taken, without waiting for each other's
 * commits: the logs number appends in the order they are called, so the positions follow that order, while
 * appends in flight together share a commit (PostgreSQL's group commit).
 */
export class AppendOrder {
  private last: Promise<void> = Promise.resolve();

  take(): AppendTurn {
    let done!: () => void;
    const own = new Promise<void>((resolve) => (done = resolve));
    const previous = this.last;
    // A turn that appends nothing may end before an earlier one issued its append: later turns wait for both.
    this.last = Promise.all([previous, own]).then(() => undefined);
    return { previous, done };
  }
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
  const { streamId, decider, metadata, expectedRevision, turn } = request;
  const attempts = expectedRevision === undefined ? Math.max(1, request.retry?.attempts ?? 1) : 1;
  try {
    for (let attempt = 1; ; attempt += 1) {
      const loaded: StreamState<TState> = request.newStream
        ? { state: decider.initialState, revision: -1 }
        : await loadStream(store, streamId, decider);
      const source = request.command;
      const command = isCommandFactory(source) ? await source(loaded.state, metadata) : source;
      assertRevisionMatches(expectedRevision, loaded.revision);
      const events = decider.decide(command, loaded.state);
      if (events.length === 0) return { events, revision: loaded.revision, position: -1, before: loaded.state };
      await turn?.previous;
      try {
        const appending = store.append(streamId, events, {
          expectedRevision: loaded.revision < 0 ? 'no_stream' : loaded.revision,
          metadata: toEventMetadata(metadata),
        });
        turn?.done();
        const appended = await appending;
        return { events, revision: appended.revision, position: appended.position, before: loaded.state };
      } catch (error) {
        if (attempt >= attempts || !isDomainError(error, WRONG_EXPECTED_REVISION)) throw error;
      }
    }
  } finally {
    turn?.done();
  }
}
