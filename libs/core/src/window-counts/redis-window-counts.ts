import type { OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { type WindowCount, WindowCounts, WindowCountsUnavailableError } from './window-counts.port.js';

/** Counts and opens the window atomically: INCR, EXPIRE on the first count, then the seconds left. */
const RECORD_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('TTL', KEYS[1]) }`;

/** Counts kept in Redis (REDIS_URL), so every api replica sees the same counts. */
export class RedisWindowCounts extends WindowCounts implements OnApplicationShutdown {
  constructor(
    private readonly redis: Redis,
    /** Namespace of the keys, e.g. `diyml:counts:`. */
    private readonly prefix: string,
  ) {
    super();
  }

  /**
   * Connects on first use: a process that counts nothing (the worker) never opens the connection.
   * disconnectTimeout 0: closed while Redis is unreachable, ioredis otherwise keeps the process alive 2 s more with a
   * timer to end a socket that never opened (it held test workers past their exit).
   */
  static connect(url: string, prefix: string): RedisWindowCounts {
    const options = { maxRetriesPerRequest: 2, lazyConnect: true, disconnectTimeout: 0 };
    return new RedisWindowCounts(new Redis(url, options), prefix);
  }

  async record(key: string, windowSeconds: number): Promise<WindowCount> {
    const [count, ttl] = (await this.answer(this.redis.eval(RECORD_SCRIPT, 1, this.prefix + key, windowSeconds))) as [
      number,
      number,
    ];
    return { count, secondsLeft: Math.max(ttl, 0) };
  }

  async peek(key: string): Promise<WindowCount> {
    const [[, count], [, ttl]] = (await this.answer(
      this.redis
        .multi()
        .get(this.prefix + key)
        .ttl(this.prefix + key)
        .exec(),
    )) as [[unknown, string | null], [unknown, number]];
    return count === null || ttl <= 0 ? { count: 0, secondsLeft: 0 } : { count: Number(count), secondsLeft: ttl };
  }

  async reset(key: string): Promise<void> {
    await this.answer(this.redis.del(this.prefix + key));
  }

  /** Redis not answering is an outage the caller names (503 for sign-ins, counting locally for predictions). */
  private async answer<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      throw new WindowCountsUnavailableError(error);
    }
  }

  async close(): Promise<void> {
    if (this.redis.status === 'wait') this.redis.disconnect();
    else await this.redis.quit();
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
