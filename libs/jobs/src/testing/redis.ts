import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether Redis answers. With REQUIRE_REDIS=1 (set by .ci/run) a missing Redis is an error, so CI cannot
 * pass by skipping the BullMQ suites.
 */
export async function redisIsReachable(url = TEST_REDIS_URL): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch (error) {
    if (process.env.REQUIRE_REDIS === '1') {
      throw new Error(`REQUIRE_REDIS=1 but Redis at ${url} does not answer: ${String(error)}`, { cause: error });
    }
    return false;
  } finally {
    client.disconnect();
  }
}
