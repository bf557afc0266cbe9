import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { BlobsModule } from '@diyml/blobs';
import { PlatformModule, Settings } from '@diyml/core';
import { DatasetsWorkerModule } from '@diyml/datasets';
import { DeploymentsWorkerModule } from '@diyml/deployments';
import { EvaluationWorkerModule } from '@diyml/evaluation';
import { EventStoreModule } from '@diyml/event-store';
import { JobsModule } from '@diyml/jobs';
import { TrainingWorkerModule } from '@diyml/training';

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
    BlobsModule,
    JobsModule.forRoot('worker'),
    TrainingWorkerModule,
    EvaluationWorkerModule,
    DatasetsWorkerModule,
    DeploymentsWorkerModule,
  ],
})
export class WorkerModule {}
