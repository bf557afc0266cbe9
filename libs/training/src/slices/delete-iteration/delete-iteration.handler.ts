import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RequestContext } from '@diyml/core';
// The view file alone: the deployments context imports training, so its index would make a cycle.
import { DEPLOYMENTS, type DeploymentView } from '@diyml/deployments/pure';
import { CommandPipeline } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { iterationDecider } from '../../domain/iteration.decider.js';
import { iterationStream } from '../../domain/iteration.events.js';
import { IterationQueries } from '../../read-models/iterations/iteration-queries.js';

export class DeleteIteration extends Command<void> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/**
 * Deletes a finished iteration that no active deployment serves (as Azure refuses to delete a published one):
 * it leaves the lists and the deployment choices; its events stay in the log.
 */
@CommandHandler(DeleteIteration)
export class DeleteIterationHandler implements ICommandHandler<DeleteIteration> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly iterations: IterationQueries,
    private readonly readStore: ReadStore,
    private readonly pipeline: CommandPipeline,
  ) {}

  async execute({ projectId, iterationId, context }: DeleteIteration): Promise<void> {
    await this.projects.getOwned(projectId, context.userId);
    await this.iterations.get(projectId, iterationId);
    const deployments = await this.readStore
      .collection<DeploymentView>(DEPLOYMENTS)
      .findAll({ projectId, iterationId, status: 'active' });
    await this.pipeline.on(iterationStream(iterationId), iterationDecider).run({
      context,
      command: (_, metadata) => ({
        type: 'DeleteIteration',
        activeDeployments: deployments.map((deployment) => deployment.name).sort(),
        metadata,
      }),
    });
  }
}
