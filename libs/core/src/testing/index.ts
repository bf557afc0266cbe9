export * from './decider-specification.js';
// The Redis adapter (loaded by PlatformModule only when REDIS_URL is set), for specs that count across replicas.
export { RedisWindowCounts } from '../window-counts/redis-window-counts.js';
