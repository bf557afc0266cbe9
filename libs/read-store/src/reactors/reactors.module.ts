import { Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { join } from 'node:path';
import { Settings } from '../../../core/src/index.js';
import { Lease } from '../lease/lease.port.js';
import { PostgresLease } from '../lease/postgres-lease.js';
import { RedisLease } from '../lease/redis-lease.js';
import { SqliteLease } from '../lease/sqlite-lease.js';
import { ReactorRunner } from './reactor-runner.js';

/**
 * Runs the @EventReactor()s of the api, each in one replica at a time. The lease lives where the replicas
 * meet: Redis when REDIS_URL is set (the jobs are there too), else PostgreSQL when POSTGRES_URL is set, else a
 * SQLite file in DATA_DIR (processes sharing the embedded data directory).
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: Lease,
      inject: [Settings],
      useFactory: (settings: Settings): Lease => {
        const logger = new Logger('Lease');
        if (settings.REDIS_URL) {
          logger.log('Reactor leases on Redis');
          return new RedisLease(settings.REDIS_URL, settings.QUEUE_PREFIX);
        }
        if (settings.POSTGRES_URL) {
          logger.log('Reactor leases as PostgreSQL advisory locks');
          return new PostgresLease(settings.POSTGRES_URL);
        }
        return new SqliteLease(join(settings.DATA_DIR, 'leases.sqlite'));
      },
    },
    ReactorRunner,
  ],
  exports: [Lease, ReactorRunner],
})
export class ReactorsModule implements OnApplicationShutdown {
  constructor(private readonly lease: Lease) {}

  /** After the ReactorRunner released its leases (before shutdown). */
  async onApplicationShutdown(): Promise<void> {
    await this.lease.close();
  }
}
