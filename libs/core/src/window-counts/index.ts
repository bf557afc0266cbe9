export * from './window-counts.port.js';
export * from './in-memory-window-counts.js';
// A type only: PlatformModule loads the Redis adapter (and ioredis) when REDIS_URL is set.
export type { RedisWindowCounts } from './redis-window-counts.js';
