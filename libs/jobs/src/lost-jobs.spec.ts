import { describe, expect, it } from 'vitest';
import { ENDED_JOB_GRACE_MS, lostJobRecovery } from './lost-jobs.js';

const now = new Date('2026-12-03T12:00:00Z');
const endedAgo = (ms: number) => ({ status: 'ended' as const, endedAt: new Date(now.getTime() - ms) });

describe('recovering unfinished work whose job is lost', () => {
  it('queues the job again when the queue no longer knows it', () => {
    expect(lostJobRecovery({ status: 'unknown' }, now)).toBe('requeue');
  });

  it('fails the work when its job ended without recording an outcome, once the grace period passed', () => {
    expect(lostJobRecovery(endedAgo(ENDED_JOB_GRACE_MS), now)).toBe('fail');
    expect(lostJobRecovery(endedAgo(ENDED_JOB_GRACE_MS * 10), now)).toBe('fail');
  });

  it('leaves a job that just ended alone: its worker may be recording the outcome', () => {
    expect(lostJobRecovery(endedAgo(ENDED_JOB_GRACE_MS - 1), now)).toBe('none');
  });

  it('leaves a waiting or running job alone', () => {
    expect(lostJobRecovery({ status: 'pending' }, now)).toBe('none');
  });
});
