import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import {
  defaultIterationName,
  type EpochStats,
  type ImportedModelSpec,
  type IterationEvent,
  type IterationOutcome,
  type IterationSpec,
  type IterationStatus,
  MAX_ITERATION_NAME_LENGTH,
} from './iteration.events.js';

export type IterationCommand = { metadata: CommandMetadata } & (
  | { type: 'QueueIteration'; projectId: string; iterationId: string; number: number; spec: IterationSpec }
  | { type: 'ImportModel'; projectId: string; iterationId: string; number: number; model: ImportedModelSpec }
  | { type: 'StartIteration'; attempt: number; backend: string }
  | { type: 'CompleteEpoch'; attempt: number; stats: EpochStats }
  | { type: 'CompleteIteration'; outcome: IterationOutcome }
  | { type: 'FailIteration'; code: string; reason: string }
  | { type: 'CancelIteration' }
  /** The worker running `attempt` stops and hands the job back to the queue. */
  | { type: 'HandBackIteration'; attempt: number }
  /** `otherNames`: the names of the project's other iterations, read by the handler (names are unique in a project). */
  | { type: 'RenameIteration'; name: string; otherNames: readonly string[] }
  /** `activeDeployments`: names of the iteration's active deployments, read by the handler. */
  | { type: 'DeleteIteration'; activeDeployments: readonly string[] }
);

export interface IterationState {
  status: IterationStatus | null;
  projectId: string;
  iterationId: string;
  attempt: number;
  /** How many attempts a stopping worker handed back; the other attempts that ended without an outcome were lost. */
  handedBackAttempts: number;
  /** Whether the current attempt was handed back: its reports come too late. */
  attemptHandedBack: boolean;
  name: string;
  deleted: boolean;
}

/**
 * How many attempts of a running iteration lost their worker (killed, out of memory), counting the current one, which
 * ended when the job runs again, unless it was handed back.
 */
export function lostAttempts(state: IterationState): number {
  return state.status === 'running' ? state.attempt - state.handedBackAttempts : 0;
}

const NO_ATTEMPT = { attempt: 0, handedBackAttempts: 0, attemptHandedBack: false };

const FINISHED: readonly (IterationStatus | null)[] = ['completed', 'failed', 'cancelled'];

export const iterationDecider: Decider<IterationState, IterationCommand, IterationEvent> = {
  initialState: { status: null, projectId: '', iterationId: '', ...NO_ATTEMPT, name: '', deleted: false },

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    if (command.type === 'QueueIteration') {
      if (state.status !== null) {
        throw DomainError.conflict('ITERATION_ALREADY_EXISTS', `Iteration ${command.iterationId} already exists.`);
      }
      const { projectId, iterationId, number, spec } = command;
      return [{ type: 'IterationQueued', v: 1, data: { projectId, iterationId, number, ...spec, queuedAt: at } }];
    }
    if (command.type === 'ImportModel') {
      if (state.status !== null) {
        throw DomainError.conflict('ITERATION_ALREADY_EXISTS', `Iteration ${command.iterationId} already exists.`);
      }
      const { projectId, iterationId, number, model } = command;
      return [{ type: 'ModelImported', v: 1, data: { projectId, iterationId, number, ...model, importedAt: at } }];
    }
    if (command.type === 'DeleteIteration' && state.deleted) return [];
    if (state.status === null || state.deleted)
      throw DomainError.notFound('ITERATION_NOT_FOUND', 'The iteration does not exist.');
    const ids = { projectId: state.projectId, iterationId: state.iterationId };
    switch (command.type) {
      case 'StartIteration':
        if (FINISHED.includes(state.status)) {
          throw DomainError.conflict('ITERATION_FINISHED', `The iteration is ${state.status}; it cannot start again.`);
        }
        if (state.status === 'running' && command.attempt <= state.attempt) return [];
        return [
          {
            type: 'IterationStarted',
            v: 1,
            data: { ...ids, attempt: command.attempt, backend: command.backend, startedAt: at },
          },
        ];
      case 'CompleteEpoch':
        requireRunning(state, command.attempt);
        return [{ type: 'EpochCompleted', v: 1, data: { ...ids, ...command.stats, attempt: command.attempt } }];
      case 'CompleteIteration':
        requireRunning(state, state.attempt);
        return [{ type: 'IterationCompleted', v: 1, data: { ...ids, ...command.outcome, completedAt: at } }];
      case 'FailIteration':
        if (FINISHED.includes(state.status)) return [];
        return [
          { type: 'IterationFailed', v: 1, data: { ...ids, code: command.code, reason: command.reason, failedAt: at } },
        ];
      case 'CancelIteration':
        if (state.status === 'cancelled') return [];
        if (FINISHED.includes(state.status)) {
          throw DomainError.conflict(
            'ITERATION_FINISHED',
            `The iteration is ${state.status}; there is nothing to cancel.`,
          );
        }
        return [{ type: 'IterationCancelled', v: 1, data: { ...ids, cancelledAt: at } }];
      case 'HandBackIteration':
        // Handed back before it started, after the run ended, or again: no attempt to keep from counting as lost.
        if (state.status !== 'running' || command.attempt !== state.attempt || state.attemptHandedBack) return [];
        return [{ type: 'IterationHandedBack', v: 1, data: { ...ids, attempt: command.attempt, handedBackAt: at } }];
      case 'RenameIteration': {
        const name = command.name.trim();
        if (name.length === 0 || name.length > MAX_ITERATION_NAME_LENGTH) {
          throw DomainError.validation(
            'ITERATION_NAME_INVALID',
            `An iteration name has 1 to ${MAX_ITERATION_NAME_LENGTH} characters (spaces around it are dropped).`,
          );
        }
        if (name === state.name) return [];
        if (command.otherNames.includes(name)) {
          throw DomainError.conflict(
            'ITERATION_NAME_TAKEN',
            `Another iteration of the project is named "${name}": choose another name.`,
          );
        }
        return [{ type: 'IterationRenamed', v: 1, data: { ...ids, name } }];
      }
      case 'DeleteIteration':
        if (state.status === 'queued' || state.status === 'running') {
          throw DomainError.conflict(
            'ITERATION_TRAINING',
            `The iteration is ${state.status}: cancel it before deleting it.`,
          );
        }
        if (command.activeDeployments.length > 0) {
          throw DomainError.conflict(
            'ITERATION_DEPLOYED',
            `The iteration is deployed as ${command.activeDeployments.map((name) => `"${name}"`).join(', ')}: undeploy it before deleting it.`,
            { deployments: command.activeDeployments },
          );
        }
        return [{ type: 'IterationDeleted', v: 1, data: { ...ids, deletedAt: at } }];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'IterationQueued':
        return {
          status: 'queued',
          projectId: event.data.projectId,
          iterationId: event.data.iterationId,
          ...NO_ATTEMPT,
          name: defaultIterationName(event.data.number),
          deleted: false,
        };
      case 'IterationStarted':
        return { ...state, status: 'running', attempt: event.data.attempt, attemptHandedBack: false };
      case 'EpochCompleted':
        return state;
      case 'IterationCompleted':
        return { ...state, status: 'completed' };
      case 'IterationFailed':
        return { ...state, status: 'failed' };
      case 'IterationCancelled':
        return { ...state, status: 'cancelled' };
      case 'IterationHandedBack':
        return { ...state, handedBackAttempts: state.handedBackAttempts + 1, attemptHandedBack: true };
      case 'ModelImported':
        return {
          status: 'completed',
          projectId: event.data.projectId,
          iterationId: event.data.iterationId,
          ...NO_ATTEMPT,
          name: defaultIterationName(event.data.number),
          deleted: false,
        };
      case 'IterationRenamed':
        return { ...state, name: event.data.name };
      case 'IterationDeleted':
        return { ...state, deleted: true };
    }
  },
};

/** A report from an attempt that is no longer the current one, or was handed back (or a finished run) is refused. */
function requireRunning(state: IterationState, attempt: number): void {
  if (state.status !== 'running' || attempt !== state.attempt) {
    throw DomainError.conflict(
      'ITERATION_NOT_RUNNING',
      `The iteration is ${state.status}, not running attempt ${attempt}.`,
    );
  }
  if (state.attemptHandedBack) {
    throw DomainError.conflict(
      'ITERATION_NOT_RUNNING',
      `Attempt ${attempt} was handed back to the queue; the next attempt runs the iteration.`,
    );
  }
}
