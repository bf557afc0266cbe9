import { it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { leaseContract } from '../testing/lease.contract.js';
import { RedisLease } from './redis-lease.js';

if (await redisIsReachable()) {
  leaseContract('Redis', async () => {
    const prefix = `diyml-test-${randomUUID()}`;
    const opened: RedisLease[] = [];
    return {
      async open() {
        const lease = new RedisLease(TEST_REDIS_URL, prefix);
        opened.push(lease);
        return lease;
      },
      // A dead process neither renews nor releases: its key expires.
      crash: async () => {},
      async close() {
        for (const lease of opened) await lease.close();
      },
    };
  });
} else {
  it.skip(`Lease contract: Redis (skipped: no Redis at ${TEST_REDIS_URL})`, () => {});
}
