import { describe, expect, it } from '@jest/globals';
import { ENDED_JOB_GRACE_MS, recoveryFor } from './lost-training-job.js';

const now = new Date('2026-12-03T12:00:00Z');
const endedAgo = (ms: number) => ({ status: 'ended' as const, endedAt: new Date(now.getTime() - ms) });

describe('recovering a training whose job is lost', () => {
  it('queues the job again when the queue no longer knows it, whether the iteration waited or ran', () => {
    expect(recoveryFor('queued', { status: 'unknown' }, now)).toBe('requeue');
    expect(recoveryFor('running', { status: 'unknown' }, now)).toBe('requeue');
  });

  it('fails the iteration when its job ended without recording an outcome, once the grace period passed', () => {
    expect(recoveryFor('running', endedAgo(ENDED_JOB_GRACE_MS), now)).toBe('fail');
    expect(recoveryFor('queued', endedAgo(ENDED_JOB_GRACE_MS * 10), now)).toBe('fail');
  });

  it('leaves a job that just ended alone: its worker may be recording the outcome', () => {
    expect(recoveryFor('running', endedAgo(ENDED_JOB_GRACE_MS - 1), now)).toBe('none');
  });

  it('leaves waiting and running jobs, and finished iterations, alone', () => {
    expect(recoveryFor('queued', { status: 'pending' }, now)).toBe('none');
    expect(recoveryFor('running', { status: 'pending' }, now)).toBe('none');
    for (const finished of ['completed', 'failed', 'cancelled', null] as const) {
      expect(recoveryFor(finished, { status: 'unknown' }, now)).toBe('none');
      expect(recoveryFor(finished, endedAgo(ENDED_JOB_GRACE_MS * 2), now)).toBe('none');
    }
  });
});
