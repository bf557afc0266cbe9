import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Clock, READ_ONLY_PROCESS, Settings } from '@diyml/core';
import { JobQueue, type LostJobRecoverer, lostJobRecovery, RecoversLostJobs } from '@diyml/jobs';
import { Lease } from '../lease/lease.port.js';

/** One api sweeps at a time; a holder that died frees it after this. */
const SWEEP_LEASE = 'lost-jobs-sweeper';
const SWEEP_LEASE_TTL_MS = 60_000;

export interface SweepResult {
  kind: string;
  requeued: number;
  failed: number;
}

/**
 * Frees the work a lost job would keep queued or running forever (a training holding one of its user's
 * MAX_ACTIVE_TRAININGS_PER_USER slots, a test run or a video the console shows spinning): every
 * LOST_JOBS_SWEEP_SECONDS, in one api at a time (a lease), asks each @RecoversLostJobs() provider for its unfinished
 * work and queues its job again or fails it (see lostJobRecovery). Only where jobs outlive the process (BullMQ):
 * in-process jobs die with the api, whose reactors queue every unfinished job again from the log at the next start.
 */
@Injectable()
export class LostJobsSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LostJobsSweeper.name);
  private recoverers: LostJobRecoverer[] = [];
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly jobs: JobQueue,
    private readonly lease: Lease,
    private readonly clock: Clock,
    private readonly settings: Settings,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  onApplicationBootstrap(): void {
    if (this.readOnly || !this.jobs.outlivesProcess) return;
    this.recoverers = this.discovery
      .getProviders({ metadataKey: RecoversLostJobs.KEY })
      .map((wrapper) => wrapper.instance as LostJobRecoverer)
      .filter(Boolean);
    this.timer = setInterval(() => {
      // A sweep slower than the interval (a store that does not answer) is not started twice.
      this.sweeping ??= this.sweep()
        .catch((error: unknown) => this.logger.warn(`Looking for lost jobs failed: ${String(error)}`))
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

  /** One sweep over every kind of work, when no other api is sweeping (else nothing is done). */
  async sweep(): Promise<SweepResult[]> {
    const held = await this.lease.tryAcquire(SWEEP_LEASE, SWEEP_LEASE_TTL_MS);
    if (!held) return [];
    const results: SweepResult[] = [];
    try {
      for (const recoverer of this.recoverers) {
        // One kind whose store refuses does not keep the others lost.
        const result = await this.sweepKind(recoverer).catch((error: unknown) => {
          this.logger.warn(`Looking for lost jobs of ${recoverer.kind} failed: ${String(error)}`);
          return { kind: recoverer.kind, requeued: 0, failed: 0 };
        });
        results.push(result);
        if (result.requeued || result.failed) {
          this.logger.warn(
            `${result.kind} whose job was lost: ${result.requeued} queued again, ${result.failed} failed (JOB_LOST)`,
          );
        }
      }
    } finally {
      await held.release();
    }
    return results;
  }

  private async sweepKind(recoverer: LostJobRecoverer): Promise<SweepResult> {
    const result: SweepResult = { kind: recoverer.kind, requeued: 0, failed: 0 };
    for (const work of await recoverer.unfinished()) {
      // The job's status is read before the recoverer reads the work's stream: an outcome recorded before the job
      // ended is then always seen, and the work left alone.
      const recovery = lostJobRecovery(await this.jobs.statusOf(recoverer.queue, work.id), this.clock.now());
      if (recovery === 'requeue' && (await recoverer.requeue(work))) result.requeued += 1;
      if (recovery === 'fail' && (await recoverer.fail(work))) result.failed += 1;
    }
    return result;
  }
}
