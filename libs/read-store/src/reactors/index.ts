export * from '../lease/lease-from-settings.js';
export * from '../lease/lease.port.js';
export * from '../lease/postgres-lease.js';
// A type only: leaseFromSettings loads the Redis adapter (and ioredis) when REDIS_URL is set.
export type { RedisLease } from '../lease/redis-lease.js';
export * from '../lease/sqlite-lease.js';
export * from './lost-jobs-sweeper.js';
export * from './reactor-runner.js';
export * from './reactor.js';
export * from './reactors.module.js';
