import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { Clock, READ_ONLY_PROCESS, Settings } from '@diyml/core';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import { JobQueue, onBehalfOf } from '@diyml/jobs';
import { Lease, ReadStore } from '@diyml/read-store';
import { iterationDecider } from '../../domain/iteration.decider.js';
import { iterationStream } from '../../domain/iteration.events.js';
import { TRAINING_QUEUE, type TrainingJobPayload } from '../../jobs/training-job.processor.js';
import { ITERATIONS, type IterationView } from '../../read-models/iterations/iteration.view.js';
import { recoveryFor } from './lost-training-job.js';

/** One api sweeps at a time; a holder that died frees it after this. */
const SWEEP_LEASE = 'lost-training-jobs-sweeper';
const SWEEP_LEASE_TTL_MS = 60_000;

export interface SweepResult {
  requeued: number;
  failed: number;
}

/**
 * Frees the trainings a lost job would keep queued or running forever, each holding one of its user's
 * MAX_ACTIVE_TRAININGS_PER_USER slots: every LOST_JOBS_SWEEP_SECONDS, in one api at a time (a lease), queues the
 * job again or fails the iteration (see recoveryFor). Only where jobs outlive the process (BullMQ): in-process jobs
 * die with the api, whose next start queues every unfinished iteration again from the log.
 */
@Injectable()
export class LostTrainingJobsSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LostTrainingJobsSweeper.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(
    private readonly jobs: JobQueue,
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly readStore: ReadStore,
    private readonly lease: Lease,
    private readonly clock: Clock,
    private readonly settings: Settings,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  onApplicationBootstrap(): void {
    if (this.readOnly || !this.jobs.outlivesProcess) return;
    this.timer = setInterval(() => {
      // A sweep slower than the interval (a store that does not answer) is not started twice.
      this.sweeping ??= this.sweep()
        .catch((error: unknown) => this.logger.warn(`Looking for lost training jobs failed: ${String(error)}`))
        .finally(() => (this.sweeping = undefined));
    }, this.settings.LOST_JOBS_SWEEP_SECONDS * 1000);
    this.timer.unref();
  }

  /**
   * Not waiting for a sweep under way: while Redis is down its reads wait for Redis, which would hold the shutdown up.
   * Stopping one halfway is harmless: queueing a job again is idempotent, and the next sweep redoes the rest.
   */
  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One sweep, when no other api is sweeping (else nothing is done). */
  async sweep(): Promise<SweepResult> {
    const result: SweepResult = { requeued: 0, failed: 0 };
    const held = await this.lease.tryAcquire(SWEEP_LEASE, SWEEP_LEASE_TTL_MS);
    if (!held) return result;
    try {
      const iterations = this.readStore.collection<IterationView>(ITERATIONS);
      const active = [
        ...(await iterations.findAll({ status: 'queued' })),
        ...(await iterations.findAll({ status: 'running' })),
      ];
      for (const { id } of active) {
        const recovery = await this.recover(id);
        if (recovery === 'requeue') result.requeued += 1;
        if (recovery === 'fail') result.failed += 1;
      }
    } finally {
      await held.release();
    }
    if (result.requeued || result.failed) {
      this.logger.warn(
        `Trainings whose job was lost: ${result.requeued} queued again, ${result.failed} failed (JOB_LOST)`,
      );
    }
    return result;
  }

  /** The job's status is read before the stream: an outcome recorded before the job ended is then always seen. */
  private async recover(iterationId: string) {
    const job = await this.jobs.statusOf(TRAINING_QUEUE, iterationId);
    if (job.status === 'pending') return 'none';
    const stream = iterationStream(iterationId);
    const { state } = await loadStream(this.events, stream, iterationDecider);
    const recovery = recoveryFor(state.status, job, this.clock.now());
    if (recovery === 'requeue') {
      const payload: TrainingJobPayload = { v: 1, projectId: state.projectId, iterationId };
      await this.jobs.enqueue({ queue: TRAINING_QUEUE, id: iterationId, payload });
    }
    if (recovery === 'fail') {
      const [queued] = await this.events.readStream(stream);
      // The decider refuses nothing here: failing a finished iteration (its outcome recorded meanwhile) is a no-op.
      await this.pipeline.on(stream, iterationDecider).run({
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
    }
    return recovery;
  }
}
