import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type HeldReservation, type InFlight, OneAtATime, QuotaReservations } from './quota-reservations.port.js';

/** The server's time in ms (scripts read it, so the replicas' clocks need not agree). */
const NOW = `local time = redis.call('TIME') local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;

/** The images reserved under each of KEYS (sorted sets of `<id>|<adding>` by expiry), dropping lapsed ones. */
const IN_FLIGHT = `${NOW}
local sums = {}
for index, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local sum = 0
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    sum = sum + tonumber(string.match(member, '|(%d+)$'))
  end
  sums[index] = sum
end
return sums`;

/** Reserves ARGV[2] (a member) under KEYS[2..] for ARGV[3] ms, only while KEYS[1] (the owner's lock) holds ARGV[1]. */
const RESERVE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
${NOW}
local ttl = tonumber(ARGV[3])
for index = 2, #KEYS do
  redis.call('ZADD', KEYS[index], now + ttl, ARGV[2])
  if redis.call('PTTL', KEYS[index]) < ttl then redis.call('PEXPIRE', KEYS[index], ttl) end
end
return 1`;

/** Extends ARGV[1] under KEYS by ARGV[2] ms unless it lapsed; 1 when it was still held. */
const RENEW = `${NOW}
local ttl = tonumber(ARGV[2])
local held = 1
for _, key in ipairs(KEYS) do
  local expiry = redis.call('ZSCORE', key, ARGV[1])
  if expiry and tonumber(expiry) > now then
    redis.call('ZADD', key, 'XX', now + ttl, ARGV[1])
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  else
    redis.call('ZREM', key, ARGV[1])
    held = 0
  end
end
return held`;

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** How long the lock of an owner's check lasts when its holder dies mid-check. */
const LOCK_TTL_MS = 10_000;
/** Pause between tries to take an owner's lock held by another process. */
const LOCK_POLL_MS = 10;
/** Checks tried again after their lock lapsed under them (a check slower than LOCK_TTL_MS). */
const ATTEMPTS = 3;

/**
 * Reservations on Redis (REDIS_URL), shared by every api on it: a sorted set per quota key whose members are the
 * reservations, scored by their expiry. A check holds its owner's lock (a key with an expiry, SET NX PX, so a
 * process dying mid-check frees it within LOCK_TTL_MS), and reserves only if it still holds it.
 */
export class RedisQuotaReservations extends QuotaReservations {
  private readonly redis: Redis;
  private readonly turns = new OneAtATime();

  constructor(
    url: string,
    private readonly prefix = 'diyml',
  ) {
    super();
    this.redis = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: true });
  }

  reserve(
    owner: string,
    keys: readonly string[],
    adding: number,
    ttlMs: number,
    check: (inFlight: InFlight) => Promise<void>,
  ): Promise<HeldReservation> {
    return this.turns.run(owner, async () => {
      const lock = `${this.prefix}:image-quota:lock:${owner}`;
      const sets = keys.map((key) => `${this.prefix}:image-quota:${key}`);
      const member = `${randomUUID()}|${adding}`;
      for (let attempt = 1; ; attempt++) {
        const token = randomUUID();
        while ((await this.redis.set(lock, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') await sleep(LOCK_POLL_MS);
        try {
          const sums = (await this.redis.eval(IN_FLIGHT, sets.length, ...sets)) as number[];
          await check(new Map(keys.map((key, index) => [key, Number(sums[index])] as const).filter(([, n]) => n > 0)));
          if ((await this.redis.eval(RESERVE, sets.length + 1, lock, ...sets, token, member, ttlMs)) === 1) break;
          if (attempt >= ATTEMPTS)
            throw new Error(`The image quota check of ${owner} outlasted its lock ${ATTEMPTS} times`);
        } finally {
          await this.redis.eval(UNLOCK, 1, lock, token);
        }
      }
      return {
        renew: async () => (await this.redis.eval(RENEW, sets.length, ...sets, member, ttlMs)) === 1,
        release: async () => {
          for (const set of sets) await this.redis.zrem(set, member);
        },
      };
    });
  }

  async close(): Promise<void> {
    // Never connected (a process that took no image in): nothing to say goodbye to.
    if (this.redis.status === 'wait') this.redis.disconnect();
    else await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
