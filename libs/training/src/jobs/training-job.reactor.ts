import { Injectable } from '@nestjs/common';
import type { RecordedEvent } from '../../../event-store/src/index.js';
import { JobQueue } from '../../../jobs/src/index.js';
import { type Projection, ReadModelProjection } from '../../../read-store/src/index.js';
import type { IterationQueued } from '../domain/iteration.events.js';
import { TRAINING_QUEUE, type TrainingJobPayload } from './training-job.processor.js';

/**
 * Turns IterationQueued into a training job, driven by the checkpointed subscription like the projections.
 * The job id is the iteration id, so seeing the event again (a restart replays from the last checkpoint, or
 * from zero on the embedded read store) never trains twice: the queue deduplicates, and the job itself does
 * nothing for an iteration that already finished — or starts a new attempt for one whose worker died.
 */
@ReadModelProjection()
@Injectable()
export class TrainingJobReactor implements Projection {
  readonly name = 'training-job-reactor';
  readonly version = 1;
  readonly collections = [];
  readonly eventTypes = ['IterationQueued'];

  constructor(private readonly jobs: JobQueue) {}

  async apply(recorded: RecordedEvent): Promise<void> {
    const { projectId, iterationId } = (recorded as unknown as IterationQueued).data;
    const payload: TrainingJobPayload = { v: 1, projectId, iterationId };
    await this.jobs.enqueue({ queue: TRAINING_QUEUE, id: iterationId, payload });
  }
}
