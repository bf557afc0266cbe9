import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Settings } from '@diyml/core';
import { quotaReservationsFromSettings } from './quota-reservations-from-settings.js';
import { QuotaReservations } from './quota-reservations.port.js';

/**
 * One QuotaReservations per app, whichever module's ImageQuota (datasets, deployments, Custom Vision, audit) checks:
 * they all count the same reservations.
 */
@Global()
@Module({
  providers: [{ provide: QuotaReservations, inject: [Settings], useFactory: quotaReservationsFromSettings }],
  exports: [QuotaReservations],
})
export class QuotaReservationsModule implements OnApplicationShutdown {
  constructor(private readonly reservations: QuotaReservations) {}

  async onApplicationShutdown(): Promise<void> {
    await this.reservations.close();
  }
}
