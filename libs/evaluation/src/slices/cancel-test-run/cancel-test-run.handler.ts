import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { JobQueue } from '@diyml/jobs';
import { ProjectAccess } from '@diyml/projects';
import { testRunDecider } from '../../domain/test-run.decider.js';
import { testRunStream } from '../../domain/test-run.events.js';
import { TEST_RUN_QUEUE } from '../../jobs/test-run-job.processor.js';
import { TestRunQueries } from '../../read-models/test-runs/test-run-queries.js';
import type { TestRunView } from '../../read-models/test-runs/test-run.view.js';

export class CancelTestRun extends Command<TestRunView> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    readonly testRunId: string,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/**
 * Records TestRunCancelled; a queued job is removed, a running one notices the event and stops its prediction
 * thread (a result it still reports is refused by the decider).
 */
@CommandHandler(CancelTestRun)
export class CancelTestRunHandler implements ICommandHandler<CancelTestRun> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly testRuns: TestRunQueries,
    private readonly pipeline: CommandPipeline,
    private readonly jobs: JobQueue,
  ) {}

  async execute({ projectId, iterationId, testRunId, context }: CancelTestRun): Promise<TestRunView> {
    await this.projects.getOwned(projectId, context.userId);
    await this.testRuns.get(projectId, iterationId, testRunId);
    const { position } = await this.pipeline.on(testRunStream(testRunId), testRunDecider).run({
      context,
      command: (_, metadata) => ({ type: 'CancelTestRun', metadata }),
      waitForReadModels: false,
    });
    await this.jobs.removeWaiting(TEST_RUN_QUEUE, testRunId);
    await this.pipeline.waitFor(position);
    return this.testRuns.get(projectId, iterationId, testRunId);
  }
}
