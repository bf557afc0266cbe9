import type { JobStatus } from '@diyml/jobs';
import type { IterationStatus } from '../../domain/iteration.events.js';

/**
 * How long a job may have ended while its iteration still says queued or running: the worker records the outcome
 * as the job ends, and BullMQ fails a job that lost its worker too often before the worker reports it.
 */
export const ENDED_JOB_GRACE_MS = 60_000;

export type LostJobRecovery = 'none' | 'requeue' | 'fail';

/**
 * What to do about an iteration's training job, given the iteration's status read from its stream and where the
 * queue says the job is:
 * - the queue does not know the job (Redis flushed or lost, the job removed by hand): queue it again. Training is
 *   idempotent by iteration id: the job does nothing for a finished iteration, starts the first attempt of a
 *   queued one, and a new attempt of a running one, failing it (WORKER_LOST) once it was lost MAX_TRAINING_ATTEMPTS
 *   times. A user who asked for a training expects it to train, not to ask again;
 * - the job ended (completed or failed) over a grace period ago and the iteration is still active: the job's outcome
 *   was never recorded (the database was down when it tried), so the iteration is failed with JOB_LOST. Queueing it
 *   again would need the ended job removed first, and the outcome it had is unknown;
 * - otherwise the job is waiting or running, or the iteration is finished: nothing.
 */
export function recoveryFor(iteration: IterationStatus | null, job: JobStatus, now: Date): LostJobRecovery {
  if (iteration !== 'queued' && iteration !== 'running') return 'none';
  if (job.status === 'unknown') return 'requeue';
  if (job.status === 'ended' && now.getTime() - job.endedAt.getTime() >= ENDED_JOB_GRACE_MS) return 'fail';
  return 'none';
}
