import type { ConnectionOptions } from 'bullmq';

export function redisConnection(url: string): ConnectionOptions {
  // BullMQ workers block on Redis; they must not give up on a request.
  return { url, maxRetriesPerRequest: null };
}
