import { expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { windowCountsContract } from './window-counts.contract.js';
import { RedisWindowCounts } from './redis-window-counts.js';
import { WindowCountsUnavailableError } from './window-counts.port.js';

if (await redisIsReachable()) {
  windowCountsContract('Redis', async () => {
    const counts = RedisWindowCounts.connect(TEST_REDIS_URL, `diyml-test-${randomUUID()}:counts:`);
    return { counts, close: () => counts.close() };
  });
} else {
  it.skip(`WindowCounts contract: Redis (skipped: no Redis at ${TEST_REDIS_URL})`, () => {});
}

it('says the counts are unavailable, not an internal error, while Redis does not answer', async () => {
  // Nothing listens on port 1: each command fails after the connection's retries.
  const counts = RedisWindowCounts.connect('redis://127.0.0.1:1', `diyml-test-${randomUUID()}:counts:`);
  try {
    for (const request of [counts.peek('login:ada'), counts.record('login:ada', 60), counts.reset('login:ada')]) {
      await expect(request).rejects.toBeInstanceOf(WindowCountsUnavailableError);
    }
  } finally {
    await counts.close().catch(() => {});
  }
});
