import { describe, expect, it } from 'vitest';
import { foldEvents } from '@diyml/core/pure';
import { deciderSpecification } from '@diyml/core/testing';
import { iterationNumberDecider, reservedNumber } from './iteration-number.decider.js';

const spec = deciderSpecification(iterationNumberDecider);
const reserved = (iterationId: string, number: number) => ({
  type: 'IterationNumberReserved' as const,
  v: 1,
  data: { projectId: 'p1', iterationId, number },
});
const reserve = (iterationId: string) => ({ type: 'ReserveIterationNumber' as const, projectId: 'p1', iterationId });

describe('iterationNumberDecider', () => {
  it('numbers the first iteration of a project 1', () => {
    spec
      .given([])
      .when(reserve('i1'))
      .then([reserved('i1', 1)]);
  });

  it('gives the next iteration the number after the last one', () => {
    spec
      .given([reserved('i1', 1), reserved('i2', 2)])
      .when(reserve('i3'))
      .then([reserved('i3', 3)]);
  });

  it('keeps the number of an iteration that reserved one already', () => {
    spec
      .given([reserved('i1', 1), reserved('i2', 2)])
      .when(reserve('i1'))
      .thenNothingHappens();
    const state = foldEvents(iterationNumberDecider, [reserved('i1', 1), reserved('i2', 2)]);
    expect(reservedNumber(state, [], 'i1')).toBe(1);
  });
});
