import { DiscoveryService } from '@nestjs/core';
import type { JobStatus } from './job-queue.port.js';

/**
 * How long a job may have ended while its work is still recorded as waiting or running: the worker records the
 * outcome as the job ends, and BullMQ fails a job that lost its worker too often before the worker reports it.
 */
export const ENDED_JOB_GRACE_MS = 60_000;

export type LostJobRecovery = 'none' | 'requeue' | 'fail';

/**
 * What to do about the job of work still recorded as waiting or running, given where the queue says the job is:
 * - the queue does not know it (Redis flushed or lost, the job removed by hand): queue it again. Every job kind is
 *   idempotent by its id (its processor does nothing for finished work), and a user who asked for the work expects
 *   it done, not to ask again;
 * - it ended (completed or failed) over a grace period ago: its outcome was never recorded (the database was down
 *   when it tried), so the work is failed with JOB_LOST. Queueing it again would need the ended job removed first,
 *   and the outcome it had is unknown;
 * - otherwise it is waiting or running: nothing.
 */
export function lostJobRecovery(job: JobStatus, now: Date): LostJobRecovery {
  if (job.status === 'unknown') return 'requeue';
  if (job.status === 'ended' && now.getTime() - job.endedAt.getTime() >= ENDED_JOB_GRACE_MS) return 'fail';
  return 'none';
}

/**
 * How one kind of background work is recovered when the queue lost its job. Each context registers one per job kind
 * (@RecoversLostJobs()); the api's LostJobsSweeper asks it for its unfinished work, reads where each job is, and
 * queues it again or fails it (see lostJobRecovery). The work's id is its job's id.
 */
export interface LostJobRecoverer<TWork extends { id: string } = { id: string }> {
  /** What the sweeper's log calls this work ("trainings", "test runs"). */
  readonly kind: string;
  readonly queue: string;
  /** The work its read model shows waiting or running. */
  unfinished(): Promise<TWork[]>;
  /** Queues the job again when the work's stream still says it is unfinished; false when it finished meanwhile. */
  requeue(work: TWork): Promise<boolean>;
  /** Fails the work with JOB_LOST through its decider when its stream still says it is unfinished; false otherwise. */
  fail(work: TWork): Promise<boolean>;
}

/** Marks a provider as a LostJobRecoverer, found by the LostJobsSweeper. */
export const RecoversLostJobs = DiscoveryService.createDecorator<void>();
