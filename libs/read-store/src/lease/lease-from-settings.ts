import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import type { Settings } from '@diyml/core';
import type { Lease } from './lease.port.js';
import { PostgresLease } from './postgres-lease.js';
import { SqliteLease } from './sqlite-lease.js';

/**
 * The leases live where the replicas meet: Redis when REDIS_URL is set (the jobs are there too), else
 * PostgreSQL when POSTGRES_URL is set, else a SQLite file in DATA_DIR. The embedded mode has no lease kept in
 * memory: processes may share its data directory (an api and a second api on one SQLite log), and a lease one
 * process keeps to itself would let each of them run every reactor, queueing every job twice.
 */
export async function leaseFromSettings(settings: Settings): Promise<Lease> {
  const logger = new Logger('Lease');
  if (settings.REDIS_URL) {
    logger.log('Reactor leases on Redis');
    // Loaded here, not at import: the embedded mode never needs ioredis.
    const { RedisLease } = await import('./redis-lease.js');
    return new RedisLease(settings.REDIS_URL, settings.QUEUE_PREFIX);
  }
  if (settings.POSTGRES_URL) {
    logger.log('Reactor leases on PostgreSQL');
    return new PostgresLease(settings.POSTGRES_URL);
  }
  return new SqliteLease(join(settings.DATA_DIR, 'leases.sqlite'));
}
