import { type CommandMetadata, type Decider, DomainError, requirePlainText } from '@diyml/core/pure';
import { DeploymentErrors } from './deployment-errors.js';
import type { DeploymentEvent, PredictionStoreSettings, SharedModelFacts } from './deployment.events.js';

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
      /** Names of the project's active deployments, read by the handler: a chosen name must be none of them. */
      activeNames: string[];
      keyHash: string;
      keyPrefix: string;
    }
  | { type: 'RotateDeploymentKey'; keyHash: string; keyPrefix: string }
  | { type: 'UndeployModel' }
  | ({ type: 'ConfigurePredictionStore' } & PredictionStoreSettings)
  | ({ type: 'ShareDeployment'; ownerId: string } & SharedModelFacts)
  | { type: 'UnshareDeployment' }
);

export interface DeploymentState {
  status: 'active' | 'undeployed' | null;
  projectId: string;
  deploymentId: string;
  iterationId: string;
  modelSha256: string;
  predictionStore: PredictionStoreSettings | null;
  shared: (SharedModelFacts & { ownerId: string }) | null;
}

export const deploymentDecider: Decider<DeploymentState, DeploymentCommand, DeploymentEvent> = {
  initialState: {
    status: null,
    projectId: '',
    deploymentId: '',
    iterationId: '',
    modelSha256: '',
    predictionStore: null,
    shared: null,
  },

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    if (command.type === 'DeployModel') {
      if (state.status !== null) {
        throw DomainError.conflict(
          DeploymentErrors.DEPLOYMENT_ALREADY_EXISTS,
          `Deployment ${command.deploymentId} already exists.`,
        );
      }
      const { iteration } = command;
      if (!iteration) {
        throw DomainError.notFound(
          DeploymentErrors.ITERATION_NOT_FOUND,
          `Iteration ${command.iterationId} does not exist in this project.`,
        );
      }
      if (iteration.status !== 'completed' || !iteration.modelSha256) {
        throw DomainError.conflict(
          DeploymentErrors.ITERATION_NOT_COMPLETED,
          `Iteration ${iteration.number} is ${iteration.status}: only a completed iteration can be deployed.`,
          { status: iteration.status },
        );
      }
      if (command.name !== undefined) {
        requirePlainText('name', command.name);
        // Only a chosen name must be free: clients deploy one iteration several times under its default name.
        if (command.activeNames.includes(command.name)) {
          throw DomainError.conflict(
            DeploymentErrors.DEPLOYMENT_NAME_TAKEN,
            `The project already has an active deployment named "${command.name}": choose another name, or undeploy that deployment first.`,
            { name: command.name },
          );
        }
      }
      const name = command.name ?? `Iteration ${iteration.number}`;
      return [
        {
          type: 'ModelDeployed',
          v: 1,
          data: {
            projectId: command.projectId,
            deploymentId: command.deploymentId,
            iterationId: iteration.id,
            iterationNumber: iteration.number,
            name,
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
      case 'ConfigurePredictionStore': {
        if (state.status === 'undeployed') throw notFound();
        const { enabled, maxCount, maxAgeDays } = command;
        const current = state.predictionStore;
        if (
          current &&
          current.enabled === enabled &&
          current.maxCount === maxCount &&
          current.maxAgeDays === maxAgeDays
        )
          return [];
        return [
          {
            type: 'PredictionStoreConfigured',
            v: 1,
            data: { ...ids, enabled, maxCount, maxAgeDays, configuredAt: at },
          },
        ];
      }
      case 'ShareDeployment': {
        if (state.status === 'undeployed') throw notFound();
        requirePlainText('description', command.description);
        const { ownerId, name, description, task, labels, metrics } = command;
        const facts = { ownerId, name, description, task, labels, metrics };
        if (state.shared && JSON.stringify(state.shared) === JSON.stringify(facts)) return [];
        return [{ type: 'DeploymentShared', v: 1, data: { ...ids, ...facts, sharedAt: at } }];
      }
      case 'UnshareDeployment':
        if (state.status === 'undeployed') throw notFound();
        if (!state.shared) return [];
        return [{ type: 'DeploymentUnshared', v: 1, data: { ...ids, unsharedAt: at } }];
      case 'RotateDeploymentKey':
        if (state.status === 'undeployed') throw notFound();
        return [
          {
            type: 'DeploymentKeyRotated',
            v: 1,
            data: { ...ids, keyHash: command.keyHash, keyPrefix: command.keyPrefix, rotatedAt: at },
          },
        ];
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
          predictionStore: null,
          shared: null,
        };
      case 'DeploymentKeyRotated':
        return state;
      case 'ModelUndeployed':
        return { ...state, status: 'undeployed', shared: null };
      case 'PredictionStoreConfigured': {
        const { enabled, maxCount, maxAgeDays } = event.data;
        return { ...state, predictionStore: { enabled, maxCount, maxAgeDays } };
      }
      case 'DeploymentShared': {
        const { ownerId, name, description, task, labels, metrics } = event.data;
        return { ...state, shared: { ownerId, name, description, task, labels, metrics } };
      }
      case 'DeploymentUnshared':
        return { ...state, shared: null };
    }
  },
};

function notFound(): DomainError {
  return DomainError.notFound(
    DeploymentErrors.DEPLOYMENT_NOT_FOUND,
    'The deployment does not exist or was undeployed.',
  );
}
