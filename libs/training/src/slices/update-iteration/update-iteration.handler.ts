import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { iterationDecider } from '../../domain/iteration.decider.js';
import { iterationStream } from '../../domain/iteration.events.js';
import { IterationQueries } from '../../read-models/iterations/iteration-queries.js';
import type { IterationView } from '../../read-models/iterations/iteration.view.js';

export class RenameIteration extends Command<IterationView> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    readonly name: string,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/** Renames an iteration; the names of the project's other iterations come from the read model. */
@CommandHandler(RenameIteration)
export class RenameIterationHandler implements ICommandHandler<RenameIteration> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly iterations: IterationQueries,
    private readonly pipeline: CommandPipeline,
  ) {}

  async execute({ projectId, iterationId, name, context }: RenameIteration): Promise<IterationView> {
    await this.projects.getOwned(projectId, context.userId);
    await this.iterations.get(projectId, iterationId);
    const otherNames = (await this.iterations.listAll(projectId))
      .filter((other) => other.id !== iterationId)
      .map((other) => other.name);
    await this.pipeline.on(iterationStream(iterationId), iterationDecider).run({
      context,
      command: (_, metadata) => ({ type: 'RenameIteration', name, otherNames, metadata }),
    });
    return this.iterations.get(projectId, iterationId);
  }
}
