import type { DomainEvent } from '@diyml/core/pure';

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

/** Whether the deployment keeps the images and results of its predictions, and for how long (null: no limit). */
export interface PredictionStoreSettings {
  enabled: boolean;
  /** At most this many stored predictions; the oldest go first. */
  maxCount: number | null;
  /** Stored predictions older than this many days go. */
  maxAgeDays: number | null;
}

export type PredictionStoreConfigured = DomainEvent<
  'PredictionStoreConfigured',
  Base & PredictionStoreSettings & { configuredAt: string }
>;

/** What other users of the installation see of a shared deployment: nothing else of the project. */
export interface SharedModelFacts {
  name: string;
  description: string;
  task: 'classification' | 'multilabel' | 'detection';
  labels: string[];
  /** The iteration's headline metrics when it was shared (null for an imported model). */
  metrics: { accuracy: number | null; precision: number | null; recall: number | null; map50: number | null } | null;
}

/** Published to every signed-in user of the installation; sharing again updates the description. */
export type DeploymentShared = DomainEvent<
  'DeploymentShared',
  Base & SharedModelFacts & { ownerId: string; sharedAt: string }
>;

export type DeploymentUnshared = DomainEvent<'DeploymentUnshared', Base & { unsharedAt: string }>;

export type DeploymentEvent =
  | ModelDeployed
  | DeploymentKeyRotated
  | ModelUndeployed
  | PredictionStoreConfigured
  | DeploymentShared
  | DeploymentUnshared;

export const DEPLOYMENT_EVENT_TYPES = [
  'ModelDeployed',
  'DeploymentKeyRotated',
  'ModelUndeployed',
  'PredictionStoreConfigured',
  'DeploymentShared',
  'DeploymentUnshared',
] as const satisfies readonly DeploymentEvent['type'][];
