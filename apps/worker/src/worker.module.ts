import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { PlatformModule, Settings } from '../../../libs/core/src/index.js';
import { EventStoreModule } from '../../../libs/event-store/src/index.js';
import { JobsModule } from '../../../libs/jobs/src/index.js';
import { ReadStoreModule } from '../../../libs/read-store/src/index.js';

/** The distributed worker: takes jobs from BullMQ and records their outcome as events. */
@Module({
  imports: [
    PlatformModule,
    LoggerModule.forRootAsync({
      inject: [Settings],
      useFactory: (settings: Settings) => ({ pinoHttp: { level: settings.LOG_LEVEL } }),
    }),
    CqrsModule.forRoot(),
    EventStoreModule,
    ReadStoreModule,
    JobsModule.forRoot('worker'),
  ],
})
export class WorkerModule {}
