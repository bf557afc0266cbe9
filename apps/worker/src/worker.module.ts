import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { BlobsModule } from '../../../libs/blobs/src/index.js';
import { PlatformModule, Settings } from '../../../libs/core/src/index.js';
import { DatasetsWorkerModule } from '../../../libs/datasets/src/index.js';
import { DeploymentsWorkerModule } from '../../../libs/deployments/src/index.js';
import { EvaluationWorkerModule } from '../../../libs/evaluation/src/index.js';
import { EventStoreModule } from '../../../libs/event-store/src/index.js';
import { JobsModule } from '../../../libs/jobs/src/index.js';
import { TrainingWorkerModule } from '../../../libs/training/src/index.js';

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
