import type { Decider } from '@diyml/core/pure';
import type { IterationNumberReserved } from './iteration.events.js';

export type ReserveIterationNumber = { type: 'ReserveIterationNumber'; projectId: string; iterationId: string };

export interface IterationNumbersState {
  /** The highest number reserved in the project, 0 before the first. */
  last: number;
  /** Which iteration holds which number, so a reservation sent again keeps its number. */
  numbers: Readonly<Record<string, number>>;
}

/** Iterations of a project are numbered 1, 2, 3… in the order they are queued or imported, each number once. */
export const iterationNumberDecider: Decider<IterationNumbersState, ReserveIterationNumber, IterationNumberReserved> = {
  initialState: { last: 0, numbers: {} },

  decide(command, state) {
    if (state.numbers[command.iterationId] !== undefined) return [];
    const { projectId, iterationId } = command;
    return [{ type: 'IterationNumberReserved', v: 1, data: { projectId, iterationId, number: state.last + 1 } }];
  },

  evolve(state, event) {
    const { iterationId, number } = event.data;
    return { last: Math.max(state.last, number), numbers: { ...state.numbers, [iterationId]: number } };
  },
};

/** The number an iteration holds once its reservation was decided on `state`. */
export function reservedNumber(
  state: IterationNumbersState,
  decided: readonly IterationNumberReserved[],
  iterationId: string,
): number {
  return decided[0]?.data.number ?? state.numbers[iterationId];
}
