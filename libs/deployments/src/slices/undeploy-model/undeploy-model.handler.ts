import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
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
    private readonly pipeline: CommandPipeline,
  ) {}

  async execute({ projectId, deploymentId, context }: UndeployModel): Promise<void> {
    await this.projects.getOwned(projectId, context.userId);
    await this.deployments.get(projectId, deploymentId);
    await this.pipeline.on(deploymentStream(deploymentId), deploymentDecider).run({
      context,
      command: (_, metadata) => ({ type: 'UndeployModel', metadata }),
    });
  }
}
