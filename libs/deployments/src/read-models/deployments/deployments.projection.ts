import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore, updateStreamDocument } from '@diyml/read-store/pure';
import { DEPLOYMENT_EVENT_TYPES, type DeploymentEvent } from '../../domain/deployment.events.js';
import { DEPLOYMENTS, type DeploymentView } from './deployment.view.js';

/** Deployments with their current key hash: what the prediction endpoint authenticates against. */
@ReadModelProjection()
@Injectable()
export class DeploymentsProjection implements Projection<DeploymentEvent> {
  readonly name = 'deployments';
  readonly version = 2;
  readonly collections = [DEPLOYMENTS];
  readonly eventTypes = DEPLOYMENT_EVENT_TYPES;

  async apply(event: Recorded<DeploymentEvent>, store: ReadStore): Promise<void> {
    const deployments = store.collection<DeploymentView>(DEPLOYMENTS);
    const update = (change: (view: DeploymentView) => Partial<DeploymentView>) =>
      updateStreamDocument(deployments, event.data.deploymentId, event, change);
    switch (event.type) {
      case 'ModelDeployed': {
        const data = event.data;
        await deployments.apply(data.deploymentId, event.position, () => ({
          id: data.deploymentId,
          projectId: data.projectId,
          iterationId: data.iterationId,
          iterationNumber: data.iterationNumber,
          name: data.name,
          modelSha256: data.modelSha256,
          labels: data.labels,
          keyHash: data.keyHash,
          keyPrefix: data.keyPrefix,
          status: 'active',
          createdAt: data.deployedAt,
          keyRotatedAt: null,
          undeployedAt: null,
          predictionStore: null,
          shared: null,
          revision: event.revision,
        }));
        return;
      }
      case 'DeploymentKeyRotated':
        await update(() => ({
          keyHash: event.data.keyHash,
          keyPrefix: event.data.keyPrefix,
          keyRotatedAt: event.data.rotatedAt,
        }));
        return;
      case 'ModelUndeployed':
        await update(() => ({ status: 'undeployed', undeployedAt: event.data.undeployedAt, shared: null }));
        return;
      case 'PredictionStoreConfigured': {
        const { enabled, maxCount, maxAgeDays } = event.data;
        await update(() => ({ predictionStore: { enabled, maxCount, maxAgeDays } }));
        return;
      }
      case 'DeploymentShared': {
        const { ownerId, name, description, task, labels, metrics, sharedAt } = event.data;
        await update(() => ({ shared: { ownerId, name, description, task, labels, metrics, sharedAt } }));
        return;
      }
      case 'DeploymentUnshared':
        await update(() => ({ shared: null }));
        return;
    }
  }
}
