import { it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { quotaReservationsContract } from '../../testing/quota-reservations.contract.js';
import { RedisQuotaReservations } from './redis-quota-reservations.js';

if (await redisIsReachable()) {
  quotaReservationsContract('Redis', async () => {
    const prefix = `diyml-test-${randomUUID()}`;
    const opened: RedisQuotaReservations[] = [];
    return {
      async open() {
        const reservations = new RedisQuotaReservations(TEST_REDIS_URL, prefix);
        opened.push(reservations);
        return reservations;
      },
      async close() {
        for (const reservations of opened) await reservations.close();
      },
    };
  });
} else {
  it.skip(`QuotaReservations contract: Redis (skipped: no Redis at ${TEST_REDIS_URL})`, () => {});
}
