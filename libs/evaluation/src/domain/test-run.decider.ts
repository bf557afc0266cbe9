import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import type { TestRunEvent, TestRunOutcome, TestRunSpec, TestRunStatus } from './test-run.events.js';

export type TestRunCommand = { metadata: CommandMetadata } & (
  | { type: 'RequestTestRun'; projectId: string; testRunId: string; iterationId: string; spec: TestRunSpec }
  | { type: 'CompleteTestRun'; outcome: TestRunOutcome }
  | { type: 'FailTestRun'; code: string; reason: string }
  | { type: 'CancelTestRun' }
);

export interface TestRunState {
  status: TestRunStatus | null;
  projectId: string;
  testRunId: string;
  iterationId: string;
}

export const testRunDecider: Decider<TestRunState, TestRunCommand, TestRunEvent> = {
  initialState: { status: null, projectId: '', testRunId: '', iterationId: '' },

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    if (command.type === 'RequestTestRun') {
      if (state.status !== null)
        throw DomainError.conflict('TEST_RUN_ALREADY_EXISTS', `Test run ${command.testRunId} already exists.`);
      const { projectId, testRunId, iterationId, spec } = command;
      return [
        { type: 'TestRunRequested', v: 1, data: { projectId, testRunId, iterationId, ...spec, requestedAt: at } },
      ];
    }
    if (state.status === null) throw DomainError.notFound('TEST_RUN_NOT_FOUND', 'The test run does not exist.');
    const ids = { projectId: state.projectId, testRunId: state.testRunId, iterationId: state.iterationId };
    switch (command.type) {
      case 'CompleteTestRun':
        if (state.status === 'completed') return [];
        if (state.status !== 'requested')
          throw DomainError.conflict('TEST_RUN_FINISHED', `The test run is already ${state.status}.`);
        return [{ type: 'TestRunCompleted', v: 1, data: { ...ids, ...command.outcome, completedAt: at } }];
      case 'FailTestRun':
        if (state.status !== 'requested') return [];
        return [
          { type: 'TestRunFailed', v: 1, data: { ...ids, code: command.code, reason: command.reason, failedAt: at } },
        ];
      case 'CancelTestRun':
        if (state.status === 'cancelled') return [];
        if (state.status !== 'requested') {
          throw DomainError.conflict(
            'TEST_RUN_FINISHED',
            `The test run is ${state.status}; there is nothing to cancel.`,
          );
        }
        return [{ type: 'TestRunCancelled', v: 1, data: { ...ids, cancelledAt: at } }];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'TestRunRequested':
        return {
          status: 'requested',
          projectId: event.data.projectId,
          testRunId: event.data.testRunId,
          iterationId: event.data.iterationId,
        };
      case 'TestRunCompleted':
        return { ...state, status: 'completed' };
      case 'TestRunFailed':
        return { ...state, status: 'failed' };
      case 'TestRunCancelled':
        return { ...state, status: 'cancelled' };
    }
  },
};
