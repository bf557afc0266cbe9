import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';
import type { DeploymentEvent, SharedModelFacts } from '../../domain/deployment.events.js';

export const SHARED_MODELS = 'shared-models';

/** A deployment shared with every user; removed when unshared or undeployed. */
export interface SharedModelView extends SharedModelFacts {
  /** The deployment id. */
  id: string;
  /** Kept for the owner's checks only: never shown to other users. */
  projectId: string;
  ownerId: string;
  sharedAt: string;
}

@ReadModelProjection()
@Injectable()
export class SharedModelsProjection implements Projection<DeploymentEvent> {
  readonly name = 'shared-models';
  readonly version = 1;
  readonly collections = [SHARED_MODELS];
  readonly eventTypes = ['DeploymentShared', 'DeploymentUnshared', 'ModelUndeployed'] as const;

  async apply(event: Recorded<DeploymentEvent>, store: ReadStore): Promise<void> {
    const models = store.collection<SharedModelView>(SHARED_MODELS);
    if (event.type === 'DeploymentShared') {
      const { deploymentId, projectId, ownerId, name, description, task, labels, metrics, sharedAt } = event.data;
      await models.apply(deploymentId, event.position, () => ({
        id: deploymentId,
        projectId,
        ownerId,
        name,
        description,
        task,
        labels,
        metrics,
        sharedAt,
      }));
    } else if (event.type === 'DeploymentUnshared' || event.type === 'ModelUndeployed') {
      await models.apply(event.data.deploymentId, event.position, () => null);
    }
  }
}
