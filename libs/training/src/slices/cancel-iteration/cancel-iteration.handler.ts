import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { JobQueue } from '@diyml/jobs';
import { ProjectAccess } from '@diyml/projects';
import { iterationDecider } from '../../domain/iteration.decider.js';
import { iterationStream } from '../../domain/iteration.events.js';
import { TRAINING_QUEUE } from '../../jobs/training-job.processor.js';
import { IterationQueries } from '../../read-models/iterations/iteration-queries.js';
import type { IterationView } from '../../read-models/iterations/iteration.view.js';

export class CancelIteration extends Command<IterationView> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/**
 * Records the cancellation; a queued job is removed, a running one notices the event between batches and
 * stops (its later reports are refused by the decider).
 */
@CommandHandler(CancelIteration)
export class CancelIterationHandler implements ICommandHandler<CancelIteration> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly iterations: IterationQueries,
    private readonly pipeline: CommandPipeline,
    private readonly jobs: JobQueue,
  ) {}

  async execute({ projectId, iterationId, context }: CancelIteration): Promise<IterationView> {
    await this.projects.getOwned(projectId, context.userId);
    await this.iterations.get(projectId, iterationId);
    const result = await this.pipeline.on(iterationStream(iterationId), iterationDecider).run({
      context,
      command: (_, metadata) => ({ type: 'CancelIteration', metadata }),
      waitForReadModels: false,
    });
    await this.jobs.removeWaiting(TRAINING_QUEUE, iterationId);
    await this.pipeline.waitFor(result.position);
    return this.iterations.get(projectId, iterationId);
  }
}
