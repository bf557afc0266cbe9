import { Injectable } from '@nestjs/common';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import { JobQueue, type LostJobRecoverer, onBehalfOf, RecoversLostJobs } from '@diyml/jobs';
import { ReadStore } from '@diyml/read-store';
import { iterationDecider } from '../../domain/iteration.decider.js';
import { iterationStream } from '../../domain/iteration.events.js';
import { TRAINING_QUEUE, type TrainingJobPayload } from '../../jobs/training-job.processor.js';
import { ITERATIONS, type IterationView } from '../../read-models/iterations/iteration.view.js';

/**
 * Trainings queued or running whose job was lost (see LostJobsSweeper), each holding one of its user's
 * MAX_ACTIVE_TRAININGS_PER_USER slots. Training is idempotent by iteration id: the job does nothing for a finished
 * iteration, starts the first attempt of a queued one, and a new attempt of a running one, failing it (WORKER_LOST)
 * once it was lost MAX_TRAINING_ATTEMPTS times.
 */
@RecoversLostJobs()
@Injectable()
export class LostTrainingJobsRecoverer implements LostJobRecoverer<IterationView> {
  readonly kind = 'trainings';
  readonly queue = TRAINING_QUEUE;

  constructor(
    private readonly jobs: JobQueue,
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly readStore: ReadStore,
  ) {}

  async unfinished(): Promise<IterationView[]> {
    const iterations = this.readStore.collection<IterationView>(ITERATIONS);
    return [...(await iterations.findAll({ status: 'queued' })), ...(await iterations.findAll({ status: 'running' }))];
  }

  async requeue({ id }: IterationView): Promise<boolean> {
    const { state } = await loadStream(this.events, iterationStream(id), iterationDecider);
    if (state.status !== 'queued' && state.status !== 'running') return false;
    const payload: TrainingJobPayload = { v: 1, projectId: state.projectId, iterationId: id };
    await this.jobs.enqueue({ queue: TRAINING_QUEUE, id, payload });
    return true;
  }

  async fail({ id }: IterationView): Promise<boolean> {
    const stream = iterationStream(id);
    const [queued] = await this.events.readStream(stream);
    // The decider refuses nothing here: failing a finished iteration (its outcome recorded meanwhile) is a no-op.
    const { events } = await this.pipeline.on(stream, iterationDecider).run({
      context: onBehalfOf(queued),
      command: (_, metadata) => ({
        type: 'FailIteration',
        code: 'JOB_LOST',
        reason:
          'Its training job ended without its outcome being recorded (the database did not answer then): train again.',
        metadata,
      }),
      waitForReadModels: false,
    });
    return events.length > 0;
  }
}
