import { it } from '@jest/globals';
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
