import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import type { ModelUndeployed } from '../domain/deployment.events.js';
import { DeploymentQueries } from '../read-models/deployments/deployment-queries.js';
import { ModelCache } from './model-cache.js';

/**
 * Unloads an undeployed model from this process's cache unless another active deployment serves it. Driven by
 * ModelCacheFollower, so every api process evicts its own copy.
 */
@Injectable()
export class ModelEvictionReactor {
  constructor(
    private readonly cache: ModelCache,
    private readonly deployments: DeploymentQueries,
  ) {}

  async apply(recorded: Recorded<ModelUndeployed>): Promise<void> {
    const { deploymentId, modelSha256 } = recorded.data;
    if (!this.cache.has(modelSha256)) return;
    if (await this.deployments.modelInUse(modelSha256, deploymentId)) return;
    this.cache.evict(modelSha256);
  }
}
