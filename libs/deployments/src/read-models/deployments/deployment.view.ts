import type { PredictionStoreSettings, SharedModelFacts } from '../../domain/deployment.events.js';

export const DEPLOYMENTS = 'deployments';

/** Read-model document of a deployment (collection `deployments`); undeployed ones stay, marked. */
export interface DeploymentView {
  id: string;
  projectId: string;
  iterationId: string;
  iterationNumber: number;
  name: string;
  modelSha256: string;
  /** Label names in model-output order. */
  labels: string[];
  /** sha256 of the current key; never shown. */
  keyHash: string;
  keyPrefix: string;
  status: 'active' | 'undeployed';
  createdAt: string;
  keyRotatedAt: string | null;
  undeployedAt: string | null;
  /** null until configured: predictions are not stored. */
  predictionStore: PredictionStoreSettings | null;
  /** Set while the deployment is shared with every user of the installation. */
  shared: (SharedModelFacts & { ownerId: string; sharedAt: string }) | null;
  revision: number;
}
