import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type HeldLease, Lease, leaseLost } from './lease.port.js';

/** Runs `then` only while KEYS[1] still holds this owner (ARGV[1]). */
const IF_OWNER = (then: string) => `if redis.call('GET', KEYS[1]) == ARGV[1] then ${then} else return 0 end`;
const RENEW = IF_OWNER(`return redis.call('PEXPIRE', KEYS[1], ARGV[2])`);
const ADVANCE = IF_OWNER(`redis.call('SET', KEYS[2], ARGV[2]) return 1`);
const RELEASE = IF_OWNER(`return redis.call('DEL', KEYS[1])`);

/**
 * Leases on Redis (REDIS_URL): the lease is a key holding its owner with an expiry (SET NX PX); renewing,
 * advancing and releasing check the owner in one script, so a holder whose lease expired changes nothing.
 */
export class RedisLease extends Lease {
  private readonly redis: Redis;
  private readonly owned = new Map<string, string>();

  constructor(
    url: string,
    private readonly prefix = 'diyml',
  ) {
    super();
    this.redis = new Redis(url, { maxRetriesPerRequest: 3 });
  }

  async tryAcquire(name: string, ttlMs: number): Promise<HeldLease | undefined> {
    const key = `${this.prefix}:lease:${name}`;
    const positionKey = `${key}:position`;
    const owner = randomUUID();
    if ((await this.redis.set(key, owner, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
    this.owned.set(owner, key);
    return {
      name,
      position: async () => Number((await this.redis.get(positionKey)) ?? -1),
      advance: async (position) => {
        if ((await this.redis.eval(ADVANCE, 2, key, positionKey, owner, String(position))) !== 1) throw leaseLost(name);
      },
      renew: async () => (await this.redis.eval(RENEW, 1, key, owner, String(ttlMs))) === 1,
      release: async () => {
        this.owned.delete(owner);
        await this.redis.eval(RELEASE, 1, key, owner);
      },
    };
  }

  async close(): Promise<void> {
    for (const [owner, key] of this.owned) await this.redis.eval(RELEASE, 1, key, owner);
    this.owned.clear();
    await this.redis.quit();
  }
}
