import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { JobQueue } from '@diyml/jobs';
import { EventReactor, type Reactor } from '@diyml/read-store';
import type { IterationQueued } from '../domain/iteration.events.js';
import { TRAINING_QUEUE, type TrainingJobPayload } from './training-job.processor.js';

/**
 * Turns IterationQueued into a training job, in one replica at a time (under its lease). The job id is the
 * iteration id, so seeing the event again (a replica that took over; the embedded mode, whose in-process jobs
 * die with the process, reacts from the start of the log again) never trains twice: the queue deduplicates,
 * and the job itself does nothing for an iteration that already finished, or starts a new attempt for one
 * whose worker died.
 */
@EventReactor()
@Injectable()
export class TrainingJobReactor implements Reactor<IterationQueued> {
  readonly name = 'training-job-reactor';
  readonly eventTypes = ['IterationQueued'] as const;

  constructor(private readonly jobs: JobQueue) {}

  async react(recorded: Recorded<IterationQueued>): Promise<void> {
    const { projectId, iterationId } = recorded.data;
    const payload: TrainingJobPayload = { v: 1, projectId, iterationId };
    await this.jobs.enqueue({ queue: TRAINING_QUEUE, id: iterationId, payload });
  }
}
