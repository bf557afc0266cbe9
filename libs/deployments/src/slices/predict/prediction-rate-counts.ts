import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock, InMemoryWindowCounts, WindowCounts, WindowCountsUnavailableError } from '@diyml/core';

/** What @nestjs/throttler's guard asks of its storage (ThrottlerStorage and ThrottlerStorageRecord). */
export interface ThrottlerHits {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/**
 * The prediction throttlers' counts, kept in WindowCounts: in Redis when REDIS_URL is set, so every api replica
 * counts a key against one limit, else in this process. Fixed windows: the first prediction of a key opens a window
 * of the throttler's ttl; past the limit it is refused until the window ends. While Redis does not answer,
 * predictions go on, counted in this process (the limit then holds per replica); the outage is logged once.
 */
@Injectable()
export class PredictionRateCounts {
  private readonly logger = new Logger(PredictionRateCounts.name);
  private readonly local: InMemoryWindowCounts;
  private countingLocally = false;

  constructor(
    @Inject(WindowCounts) private readonly counts: WindowCounts,
    @Inject(Clock) clock: Clock,
  ) {
    this.local = new InMemoryWindowCounts(clock);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    _blockDuration: number,
    name: string,
  ): Promise<ThrottlerHits> {
    const windowSeconds = Math.max(1, Math.ceil(ttl / 1000));
    const { count, secondsLeft } = await this.record(`${name}:${key}`, windowSeconds);
    const isBlocked = count > limit;
    return {
      totalHits: count,
      timeToExpire: secondsLeft,
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.max(secondsLeft, 1) : 0,
    };
  }

  private async record(key: string, windowSeconds: number) {
    try {
      const counted = await this.counts.record(key, windowSeconds);
      if (this.countingLocally) this.logger.log('Redis answers again: predictions are counted there again');
      this.countingLocally = false;
      return counted;
    } catch (error) {
      if (!(error instanceof WindowCountsUnavailableError)) throw error;
      if (!this.countingLocally) this.logger.warn(`${error.message}: counting predictions in this process meanwhile`);
      this.countingLocally = true;
      return this.local.record(key, windowSeconds);
    }
  }
}
