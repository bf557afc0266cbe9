import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { READ_ONLY_PROCESS } from '@diyml/core';
import { EventStore, type Recorded, type Subscription } from '@diyml/event-store';
import type { ModelDeployed, ModelUndeployed } from '../domain/deployment.events.js';
import { ModelEvictionReactor } from './model-eviction.reactor.js';
import { ModelWarmingReactor } from './model-warming.reactor.js';

/**
 * Keeps this process's model cache in step with deployments: every api process follows the log from its start (its
 * cache starts empty, so nothing earlier matters), warming a model when it is deployed and unloading it when it is
 * undeployed. A read-model projection would run in one api only where the apis share their read models.
 */
@Injectable()
export class ModelCacheFollower implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ModelCacheFollower.name);
  private subscription?: Subscription;

  constructor(
    private readonly events: EventStore,
    private readonly warming: ModelWarmingReactor,
    private readonly eviction: ModelEvictionReactor,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.readOnly) return;
    this.subscription = this.events.subscribeToAll(await this.events.headPosition(), async (event) => {
      try {
        if (event.type === 'ModelDeployed') await this.warming.apply(event as Recorded<ModelDeployed>);
        else if (event.type === 'ModelUndeployed') await this.eviction.apply(event as Recorded<ModelUndeployed>);
      } catch (error) {
        // The cache only saves time: a failed step leaves the next call to load or the cache's limits to unload.
        this.logger.warn(`Model cache not updated for ${event.type}: ${String(error)}`);
      }
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
  }
}
