export * from './auth-throttle.js';
export * from './failed-attempts.port.js';
export * from './in-memory-failed-attempts.js';
// A type only: PlatformModule loads the Redis adapter (and ioredis) when REDIS_URL is set.
export type { RedisFailedAttempts } from './redis-failed-attempts.js';
