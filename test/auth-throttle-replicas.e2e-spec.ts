import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { startTestApp, type TestApp } from './support/test-app.js';

if (await redisIsReachable()) {
  describe('failed sign-ins counted in Redis, across api replicas', () => {
    const replicas: TestApp[] = [];

    beforeAll(async () => {
      // Two apis sharing one Redis namespace, as two replicas behind a load balancer would.
      const settings = {
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: `diyml-test-${randomUUID()}`,
        AUTH_FAILURES_PER_ACCOUNT: '3',
      };
      replicas.push(await startTestApp({ settings }), await startTestApp({ settings }));
    });
    afterAll(async () => {
      for (const replica of replicas) await replica.destroy();
    });

    it('answers 429 on one replica for an account whose failures were made on the other', async () => {
      const [first, second] = replicas;
      const wrong = { username: 'ada', password: 'not the password' };
      for (let attempt = 0; attempt < 3; attempt += 1) await first.http.post('/v1/auth/login').send(wrong).expect(401);
      const blocked = await second.http.post('/v1/auth/login').send(wrong);
      expect(blocked.status).toBe(429);
      expect(blocked.body.code).toBe('TOO_MANY_FAILED_ATTEMPTS');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // Another account is not affected.
      await second.http.post('/v1/auth/login').send({ username: 'bob', password: 'not the password' }).expect(401);
    });
  });
} else {
  it.skip(`failed sign-ins across replicas (skipped: no Redis at ${TEST_REDIS_URL})`, () => {});
}
