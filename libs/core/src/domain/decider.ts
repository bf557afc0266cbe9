/** An event as the domain sees it: an explicit, stable type, a schema version and plain data. */
export interface DomainEvent<TType extends string = string, TData = unknown> {
  readonly type: TType;
  readonly v: number;
  readonly data: TData;
}

/**
 * The pure heart of a write model. `decide` returns the events a command causes (or throws a DomainError);
 * `evolve` folds events into state. Neither reads the clock nor does I/O: whatever they need from outside
 * comes in the command.
 */
export interface Decider<TState, TCommand, TEvent extends DomainEvent> {
  readonly initialState: TState;
  decide(command: TCommand, state: TState): TEvent[];
  evolve(state: TState, event: TEvent): TState;
}

export function foldEvents<TState, TEvent extends DomainEvent>(
  decider: Pick<Decider<TState, unknown, TEvent>, 'initialState' | 'evolve'>,
  events: readonly TEvent[],
): TState {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState);
}
