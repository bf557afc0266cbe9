import { Logger } from '@nestjs/common';
import type { Settings } from '@diyml/core';
import { InProcessQuotaReservations } from './in-process-quota-reservations.js';
import { PostgresQuotaReservations } from './postgres-quota-reservations.js';
import type { QuotaReservations } from './quota-reservations.port.js';

/**
 * The quota's reservations live where the replicas meet: in PostgreSQL when POSTGRES_URL is set, beside the log the
 * uploads are written to (so Redis being down does not stop uploads, as the README promises for writes), else on
 * Redis when REDIS_URL is set (KurrentDB + MongoDB + Redis), else in this process (the embedded mode: one api per data
 * directory takes its uploads).
 */
export async function quotaReservationsFromSettings(settings: Settings): Promise<QuotaReservations> {
  const logger = new Logger('ImageQuota');
  if (settings.POSTGRES_URL) {
    logger.log('Image quota reservations in PostgreSQL');
    return new PostgresQuotaReservations(settings.POSTGRES_URL);
  }
  if (settings.REDIS_URL) {
    logger.log('Image quota reservations on Redis');
    // Loaded here, not at import: the embedded mode never needs ioredis.
    const { RedisQuotaReservations } = await import('./redis-quota-reservations.js');
    return new RedisQuotaReservations(settings.REDIS_URL, settings.QUEUE_PREFIX);
  }
  return new InProcessQuotaReservations();
}
