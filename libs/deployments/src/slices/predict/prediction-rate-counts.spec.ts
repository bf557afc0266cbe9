import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { InMemoryWindowCounts, SystemClock } from '@diyml/core';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { RedisWindowCounts } from '@diyml/core/testing';
import { PredictionRateCounts } from './prediction-rate-counts.js';

const MINUTE = 60_000;
const clock = new SystemClock();

async function hits(counts: PredictionRateCounts, times: number, key = 'key:abc', limit = 3) {
  const answers = [];
  for (let call = 0; call < times; call += 1)
    answers.push(await counts.increment(key, MINUTE, limit, MINUTE, 'predict'));
  return answers;
}

describe('PredictionRateCounts', () => {
  it('lets a key through up to the limit, then blocks it until its window ends', async () => {
    const counts = new PredictionRateCounts(new InMemoryWindowCounts(clock), clock);
    const answers = await hits(counts, 4);
    expect(answers.map((answer) => answer.isBlocked)).toEqual([false, false, false, true]);
    expect(answers[3].timeToBlockExpire).toBeGreaterThan(50);
    expect(answers[3].timeToBlockExpire).toBeLessThanOrEqual(60);
    // Another key, or the same key under another throttler, is counted apart.
    expect((await hits(counts, 1, 'key:other'))[0].isBlocked).toBe(false);
    expect((await counts.increment('key:abc', MINUTE, 3, MINUTE, 'shared-predict')).isBlocked).toBe(false);
  });

  it('goes on counting in this process while Redis does not answer', async () => {
    // Nothing listens on port 1: every count fails after the connection's retries.
    const unreachable = RedisWindowCounts.connect('redis://127.0.0.1:1', `diyml-test-${randomUUID()}:counts:`);
    try {
      const counts = new PredictionRateCounts(unreachable, clock);
      expect((await hits(counts, 4)).map((answer) => answer.isBlocked)).toEqual([false, false, false, true]);
    } finally {
      await unreachable.close().catch(() => {});
    }
  });
});

if (await redisIsReachable()) {
  it('counts a key once across api replicas sharing Redis', async () => {
    const prefix = `diyml-test-${randomUUID()}:counts:`;
    const [first, second] = [
      RedisWindowCounts.connect(TEST_REDIS_URL, prefix),
      RedisWindowCounts.connect(TEST_REDIS_URL, prefix),
    ];
    try {
      const replicas = [new PredictionRateCounts(first, clock), new PredictionRateCounts(second, clock)];
      await hits(replicas[0], 2);
      const [third, fourth] = await hits(replicas[1], 2);
      expect(third.isBlocked).toBe(false);
      expect(fourth).toMatchObject({ isBlocked: true, totalHits: 4 });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
} else {
  it.skip(`prediction counts across replicas (skipped: no Redis at ${TEST_REDIS_URL})`, () => {});
}
