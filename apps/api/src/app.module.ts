import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { stdSerializers } from 'pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuditModule } from '../../../libs/audit/src/audit.module.js';
import { BlobsModule } from '../../../libs/blobs/src/index.js';
import { PlatformModule, Settings } from '../../../libs/core/src/index.js';
import { CustomVisionModule } from '../../../libs/custom-vision/src/index.js';
import { DatasetsModule } from '../../../libs/datasets/src/index.js';
import { DeploymentsModule } from '../../../libs/deployments/src/index.js';
import { EvaluationModule } from '../../../libs/evaluation/src/index.js';
import { EventStoreModule } from '../../../libs/event-store/src/index.js';
import { IdentityModule } from '../../../libs/identity/src/index.js';
import { JobsModule } from '../../../libs/jobs/src/index.js';
import { ProjectsModule } from '../../../libs/projects/src/index.js';
import { ReactorsModule, ReadStoreModule } from '../../../libs/read-store/src/index.js';
import { TrainingModule } from '../../../libs/training/src/index.js';
import { HealthController } from './health/health.controller.js';

const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client's correlation id is kept when it is safe to log; otherwise each request gets a new one. */
function correlationIdOf(request: IncomingMessage, response: ServerResponse): string {
  const given = request.headers[CORRELATION_HEADER];
  const id = typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
  response.setHeader('X-Correlation-Id', id);
  return id;
}

@Module({
  imports: [
    PlatformModule,
    LoggerModule.forRootAsync({
      inject: [Settings],
      useFactory: (settings: Settings) => ({
        pinoHttp: {
          level: settings.LOG_LEVEL,
          genReqId: correlationIdOf,
          customAttributeKeys: { reqId: 'correlationId' },
          // What a request log needs, nothing a caller can inflate: the default serializers wrote every request
          // and response header (~1.2 KB a line, up to 16 KB with made-up headers, cookies unredacted) for each
          // request, part of the ~1.5 ms of CPU each request cost that let 500 connections at once delay /health.
          wrapSerializers: false,
          serializers: {
            req: (request: IncomingMessage & { id?: string }) => ({
              id: request.id,
              method: request.method,
              url: request.url?.slice(0, 512),
              remoteAddress: request.socket?.remoteAddress,
            }),
            res: (response: ServerResponse) => ({ statusCode: response.statusCode }),
            err: stdSerializers.err,
          },
        },
      }),
    }),
    CqrsModule.forRoot(),
    EventStoreModule,
    ReadStoreModule,
    JobsModule.forRoot('api'),
    ReactorsModule,
    TerminusModule,
    IdentityModule,
    ProjectsModule,
    BlobsModule,
    DatasetsModule,
    TrainingModule,
    DeploymentsModule,
    EvaluationModule,
    CustomVisionModule,
    AuditModule,
  ],
  controllers: [HealthController],
})
export class AppModule {}
