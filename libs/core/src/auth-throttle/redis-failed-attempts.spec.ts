import { expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { failedAttemptsContract } from './failed-attempts.contract.js';
import { RedisFailedAttempts } from './redis-failed-attempts.js';

if (await redisIsReachable()) {
  failedAttemptsContract('Redis', async () => {
    const attempts = RedisFailedAttempts.connect(TEST_REDIS_URL, `diyml-test-${randomUUID()}:auth-failures:`);
    return { attempts, close: () => attempts.close() };
  });
} else {
  it.skip(`FailedAttempts contract: Redis (skipped: no Redis at ${TEST_REDIS_URL})`, () => {});
}

it('refuses with 503 AUTH_THROTTLE_UNAVAILABLE, not an internal error, while Redis does not answer', async () => {
  // Nothing listens on port 1: each command fails after the connection's retries.
  const attempts = RedisFailedAttempts.connect('redis://127.0.0.1:1', `diyml-test-${randomUUID()}:auth-failures:`);
  try {
    for (const request of [attempts.peek('login:ada'), attempts.record('login:ada', 60), attempts.reset('login:ada')]) {
      await expect(request).rejects.toMatchObject({ kind: 'unavailable', code: 'AUTH_THROTTLE_UNAVAILABLE' });
    }
  } finally {
    await attempts.close().catch(() => {});
  }
});
