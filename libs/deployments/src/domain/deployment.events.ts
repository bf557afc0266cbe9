import type { DomainEvent } from '../../../core/src/index.js';

export const deploymentStream = (deploymentId: string) => `deployment-${deploymentId}`;

type Base = { projectId: string; deploymentId: string };

/** An iteration's model behind its own prediction endpoint. Only the sha256 of the API key is kept. */
export type ModelDeployed = DomainEvent<
  'ModelDeployed',
  Base & {
    iterationId: string;
    iterationNumber: number;
    name: string;
    /** sha256 of the model blob, the key of the model cache. */
    modelSha256: string;
    /** The project's label names in model-output order, as the iteration had them: what predictions are called. */
    labels: string[];
    keyHash: string;
    /** The first characters of the key, to recognise it in lists. */
    keyPrefix: string;
    deployedAt: string;
  }
>;

/** A new key replaces the old one, which stops working at once. */
export type DeploymentKeyRotated = DomainEvent<
  'DeploymentKeyRotated',
  Base & { keyHash: string; keyPrefix: string; rotatedAt: string }
>;

export type ModelUndeployed = DomainEvent<
  'ModelUndeployed',
  Base & { iterationId: string; modelSha256: string; undeployedAt: string }
>;

export type DeploymentEvent = ModelDeployed | DeploymentKeyRotated | ModelUndeployed;

export const DEPLOYMENT_EVENT_TYPES = ['ModelDeployed', 'DeploymentKeyRotated', 'ModelUndeployed'] as const;
