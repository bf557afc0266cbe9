import { type CommandMetadata, type Decider, DomainError, requirePlainText } from '../../../core/src/index.js';
import { DeploymentErrors } from './deployment-errors.js';
import type { DeploymentEvent } from './deployment.events.js';

/** What the handler read about the iteration to deploy (null: not in this project). */
export interface IterationFacts {
  id: string;
  number: number;
  status: string;
  modelSha256: string | null;
  /** Label names in model-output order. */
  labels: string[];
}

export type DeploymentCommand = { metadata: CommandMetadata } & (
  | {
      type: 'DeployModel';
      projectId: string;
      deploymentId: string;
      iterationId: string;
      iteration: IterationFacts | null;
      name: string | undefined;
      keyHash: string;
      keyPrefix: string;
    }
  | { type: 'RotateDeploymentKey'; keyHash: string; keyPrefix: string }
  | { type: 'UndeployModel' }
);

export interface DeploymentState {
  status: 'active' | 'undeployed' | null;
  projectId: string;
  deploymentId: string;
  iterationId: string;
  modelSha256: string;
}

export const deploymentDecider: Decider<DeploymentState, DeploymentCommand, DeploymentEvent> = {
  initialState: { status: null, projectId: '', deploymentId: '', iterationId: '', modelSha256: '' },

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    if (command.type === 'DeployModel') {
      if (state.status !== null) {
        throw DomainError.conflict(DeploymentErrors.DEPLOYMENT_ALREADY_EXISTS, `Deployment ${command.deploymentId} already exists.`);
      }
      const { iteration } = command;
      if (!iteration) {
        throw DomainError.notFound(DeploymentErrors.ITERATION_NOT_FOUND, `Iteration ${command.iterationId} does not exist in this project.`);
      }
      if (iteration.status !== 'completed' || !iteration.modelSha256) {
        throw DomainError.conflict(
          DeploymentErrors.ITERATION_NOT_COMPLETED,
          `Iteration ${iteration.number} is ${iteration.status}: only a completed iteration can be deployed.`,
          { status: iteration.status },
        );
      }
      if (command.name !== undefined) requirePlainText('name', command.name);
      return [
        {
          type: 'ModelDeployed',
          v: 1,
          data: {
            projectId: command.projectId,
            deploymentId: command.deploymentId,
            iterationId: iteration.id,
            iterationNumber: iteration.number,
            name: command.name ?? `Iteration ${iteration.number}`,
            modelSha256: iteration.modelSha256,
            labels: iteration.labels,
            keyHash: command.keyHash,
            keyPrefix: command.keyPrefix,
            deployedAt: at,
          },
        },
      ];
    }
    if (state.status === null) throw notFound();
    const ids = { projectId: state.projectId, deploymentId: state.deploymentId };
    switch (command.type) {
      case 'RotateDeploymentKey':
        if (state.status === 'undeployed') throw notFound();
        return [{ type: 'DeploymentKeyRotated', v: 1, data: { ...ids, keyHash: command.keyHash, keyPrefix: command.keyPrefix, rotatedAt: at } }];
      case 'UndeployModel':
        if (state.status === 'undeployed') return [];
        return [
          {
            type: 'ModelUndeployed',
            v: 1,
            data: { ...ids, iterationId: state.iterationId, modelSha256: state.modelSha256, undeployedAt: at },
          },
        ];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ModelDeployed':
        return {
          status: 'active',
          projectId: event.data.projectId,
          deploymentId: event.data.deploymentId,
          iterationId: event.data.iterationId,
          modelSha256: event.data.modelSha256,
        };
      case 'DeploymentKeyRotated':
        return state;
      case 'ModelUndeployed':
        return { ...state, status: 'undeployed' };
    }
  },
};

function notFound(): DomainError {
  return DomainError.notFound(DeploymentErrors.DEPLOYMENT_NOT_FOUND, 'The deployment does not exist or was undeployed.');
}
