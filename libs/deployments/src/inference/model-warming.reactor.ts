import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '@diyml/core';
import type { Recorded } from '@diyml/event-store';
import type { ModelDeployed } from '../domain/deployment.events.js';
import { ModelCache } from './model-cache.js';

/** A deployment made this recently is about to be called; an older one (the log read late) is loaded by its first call. */
export const WARM_DEPLOYMENTS_WITHIN_MS = 10 * 60_000;

/**
 * Loads a newly deployed model into this process's cache in the background, so that the deployment's first
 * prediction does not wait seconds for the load. Driven by ModelCacheFollower, in every api process.
 */
@Injectable()
export class ModelWarmingReactor {
  private readonly logger = new Logger(ModelWarmingReactor.name);

  constructor(
    private readonly cache: ModelCache,
    private readonly clock: Clock,
  ) {}

  apply(recorded: Recorded<ModelDeployed>): Promise<void> {
    const { modelSha256, deployedAt } = recorded.data;
    if (this.clock.now().getTime() - Date.parse(deployedAt) > WARM_DEPLOYMENTS_WITHIN_MS) return Promise.resolve();
    // Not awaited: the read models go on meanwhile, and a prediction that comes first shares this load.
    this.cache
      .warm(modelSha256)
      .catch((error: unknown) =>
        this.logger.warn(
          `Model ${modelSha256.slice(0, 12)} could not be loaded ahead of its first call: ${String(error)}`,
        ),
      );
    return Promise.resolve();
  }
}
