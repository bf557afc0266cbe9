import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock, commandMetadata, type RequestContext, Settings } from '@diyml/core';
import { decideAndAppend, EventStore } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { ProjectionRunner } from '@diyml/read-store';
import { deploymentDecider } from '../../domain/deployment.decider.js';
import { deploymentStream } from '../../domain/deployment.events.js';
import { DeploymentQueries } from '../../read-models/deployments/deployment-queries.js';

export class UndeployModel extends Command<void> {
  constructor(
    readonly projectId: string,
    readonly deploymentId: string,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/** Takes the endpoint down: predictions answer 404 from the response on; the model is unloaded if unused. */
@CommandHandler(UndeployModel)
export class UndeployModelHandler implements ICommandHandler<UndeployModel> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly deployments: DeploymentQueries,
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly clock: Clock,
    private readonly settings: Settings,
  ) {}

  async execute({ projectId, deploymentId, context }: UndeployModel): Promise<void> {
    await this.projects.getOwned(projectId, context.userId);
    await this.deployments.get(projectId, deploymentId);
    const metadata = commandMetadata(context, this.clock.now());
    const result = await decideAndAppend(
      this.events,
      deploymentStream(deploymentId),
      deploymentDecider,
      { type: 'UndeployModel', metadata },
      metadata,
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
  }
}
