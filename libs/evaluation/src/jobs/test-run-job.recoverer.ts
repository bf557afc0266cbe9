import { Injectable } from '@nestjs/common';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import { JobQueue, type LostJobRecoverer, onBehalfOf, RecoversLostJobs } from '@diyml/jobs';
import { ReadStore } from '@diyml/read-store';
import { testRunDecider } from '../domain/test-run.decider.js';
import { testRunStream } from '../domain/test-run.events.js';
import { TEST_RUNS, type TestRunView } from '../read-models/test-runs/test-run.view.js';
import { TEST_RUN_QUEUE, type TestRunJobPayload } from './test-run-job.processor.js';

/**
 * Test runs still requested whose job was lost (see LostJobsSweeper). The job is idempotent by test run id: it does
 * nothing for a finished or cancelled run, and predicts the same frozen manifest with the same model otherwise.
 */
@RecoversLostJobs()
@Injectable()
export class LostTestRunJobsRecoverer implements LostJobRecoverer<TestRunView> {
  readonly kind = 'test runs';
  readonly queue = TEST_RUN_QUEUE;

  constructor(
    private readonly jobs: JobQueue,
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly readStore: ReadStore,
  ) {}

  unfinished(): Promise<TestRunView[]> {
    return this.readStore.collection<TestRunView>(TEST_RUNS).findAll({ status: 'requested' });
  }

  async requeue({ id }: TestRunView): Promise<boolean> {
    const { state } = await loadStream(this.events, testRunStream(id), testRunDecider);
    if (state.status !== 'requested') return false;
    const payload: TestRunJobPayload = { v: 1, projectId: state.projectId, testRunId: id };
    await this.jobs.enqueue({ queue: TEST_RUN_QUEUE, id, payload });
    return true;
  }

  async fail({ id }: TestRunView): Promise<boolean> {
    const stream = testRunStream(id);
    const [requested] = await this.events.readStream(stream);
    // Failing a run that finished meanwhile is a no-op of the decider.
    const { events } = await this.pipeline.on(stream, testRunDecider).run({
      context: onBehalfOf(requested),
      command: (_, metadata) => ({
        type: 'FailTestRun',
        code: 'JOB_LOST',
        reason:
          'Its job ended without its outcome being recorded (the database did not answer then): request the test run again.',
        metadata,
      }),
      waitForReadModels: false,
    });
    return events.length > 0;
  }
}
