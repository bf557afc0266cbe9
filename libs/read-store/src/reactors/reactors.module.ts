import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Settings } from '@diyml/core';
import { leaseFromSettings } from '../lease/lease-from-settings.js';
import { Lease } from '../lease/lease.port.js';
import { LostJobsSweeper } from './lost-jobs-sweeper.js';
import { ReactorRunner } from './reactor-runner.js';

/**
 * Runs the @EventReactor()s of the api, each in one replica at a time (leases: see leaseFromSettings), and the sweeper
 * of the work whose job the queue lost.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: Lease,
      inject: [Settings],
      useFactory: leaseFromSettings,
    },
    ReactorRunner,
    LostJobsSweeper,
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
