import { expect } from 'vitest';
import { type Decider, type DomainEvent, foldEvents } from '../domain/decider.js';
import { DomainError } from '../domain/domain-error.js';

/**
 * Given/when/then for deciders:
 *   spec.given([...events]).when(command).then([...events])
 *   spec.given([...events]).when(command).thenThrows('CODE')
 *   spec.given([...events]).when(command).thenNothingHappens()
 */
export function deciderSpecification<TState, TCommand, TEvent extends DomainEvent>(
  decider: Decider<TState, TCommand, TEvent>,
) {
  return {
    given(events: TEvent[]) {
      return {
        when(command: TCommand) {
          const run = () => decider.decide(command, foldEvents(decider, events));
          return {
            then(expected: TEvent[]) {
              expect(run()).toEqual(expected);
            },
            thenNothingHappens() {
              expect(run()).toEqual([]);
            },
            thenThrows(code: string) {
              let thrown: unknown;
              try {
                run();
              } catch (error) {
                thrown = error;
              }
              expect(thrown).toBeInstanceOf(DomainError);
              expect((thrown as DomainError).code).toBe(code);
            },
          };
        },
      };
    },
  };
}
