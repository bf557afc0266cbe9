import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock, commandMetadata, type RequestContext, Settings } from '@diyml/core';
import { decideAndAppend, EventStore } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { ProjectionRunner } from '@diyml/read-store';
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
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly clock: Clock,
    private readonly settings: Settings,
  ) {}

  async execute({ projectId, iterationId, name, context }: RenameIteration): Promise<IterationView> {
    await this.projects.getOwned(projectId, context.userId);
    await this.iterations.get(projectId, iterationId);
    const otherNames = (await this.iterations.listAll(projectId))
      .filter((other) => other.id !== iterationId)
      .map((other) => other.name);
    const metadata = commandMetadata(context, this.clock.now());
    const result = await decideAndAppend(
      this.events,
      iterationStream(iterationId),
      iterationDecider,
      { type: 'RenameIteration', name, otherNames, metadata },
      metadata,
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    return this.iterations.get(projectId, iterationId);
  }
}
