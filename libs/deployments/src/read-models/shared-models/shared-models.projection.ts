import { Injectable } from '@nestjs/common';
import type { RecordedEvent } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store';
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
export class SharedModelsProjection implements Projection {
  readonly name = 'shared-models';
  readonly version = 1;
  readonly collections = [SHARED_MODELS];
  readonly eventTypes = ['DeploymentShared', 'DeploymentUnshared', 'ModelUndeployed'];

  async apply(recorded: RecordedEvent, store: ReadStore): Promise<void> {
    const event = recorded as unknown as DeploymentEvent;
    const models = store.collection<SharedModelView>(SHARED_MODELS);
    if (event.type === 'DeploymentShared') {
      const { deploymentId, projectId, ownerId, name, description, task, labels, metrics, sharedAt } = event.data;
      await models.apply(deploymentId, recorded.position, () => ({
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
      await models.apply(event.data.deploymentId, recorded.position, () => null);
    }
  }
}
