import { it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { RedisLease } from '../lease/redis-lease.js';
import { readStoreContract } from '../testing/read-store.contract.js';
import { sharedReadStoreContract } from '../testing/shared-read-store.contract.js';
import { MongoReadStore } from './mongo-read-store.js';

const uri = process.env.MONGODB_URI;

if (uri) {
  readStoreContract('MongoDB', async () => {
    const store = await MongoReadStore.connect(uri);
    await store.dropAll();
    return store;
  });
} else {
  it.skip('ReadStore contract: MongoDB (skipped: set MONGODB_URI to run it)', () => {});
}

// With MongoDB read models the replicas meet on Redis (the jobs are there too), so the projections lease is Redis's.
if (uri && (await redisIsReachable())) {
  sharedReadStoreContract('MongoDB, leases on Redis', async () => {
    const prefix = `diyml-test-${randomUUID()}`;
    return {
      async open() {
        const store = await MongoReadStore.connect(uri);
        for (const name of ['fenced', 'ticks']) await store.collection(name).clear();
        return store;
      },
      openLease: async () => new RedisLease(TEST_REDIS_URL, prefix),
    };
  });
} else {
  it.skip(`Shared ReadStore contract: MongoDB (skipped: set MONGODB_URI${uri ? `, and run Redis at ${TEST_REDIS_URL}` : ''} to run it)`, () => {});
}
