import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { JobQueue } from '@diyml/jobs';
import { EventReactor, type Reactor } from '@diyml/read-store';
import type { TestRunRequested } from '../domain/test-run.events.js';
import { TEST_RUN_QUEUE, type TestRunJobPayload } from './test-run-job.processor.js';

/**
 * Turns TestRunRequested into a job on the `test-runs` queue, in one replica at a time (under its lease). The
 * job id is the test run id, so seeing the event again never runs it twice.
 */
@EventReactor()
@Injectable()
export class TestRunJobReactor implements Reactor<TestRunRequested> {
  readonly name = 'test-run-job-reactor';
  readonly eventTypes = ['TestRunRequested'] as const;

  constructor(private readonly jobs: JobQueue) {}

  async react(recorded: Recorded<TestRunRequested>): Promise<void> {
    const { projectId, testRunId } = recorded.data;
    const payload: TestRunJobPayload = { v: 1, projectId, testRunId };
    await this.jobs.enqueue({ queue: TEST_RUN_QUEUE, id: testRunId, payload });
  }
}
