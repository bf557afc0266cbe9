import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { stdSerializers } from 'pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuditModule } from '@diyml/audit';
import { BlobsModule } from '@diyml/blobs';
import { PlatformModule, Settings } from '@diyml/core';
import { CustomVisionModule } from '@diyml/custom-vision';
import { DatasetsModule } from '@diyml/datasets';
import { DeploymentsModule } from '@diyml/deployments';
import { EvaluationModule } from '@diyml/evaluation';
import { EventStoreModule } from '@diyml/event-store';
import { IdentityModule } from '@diyml/identity';
import { JobsModule } from '@diyml/jobs';
import { ProjectsModule } from '@diyml/projects';
import { ReactorsModule, ReadStoreModule } from '@diyml/read-store';
import { TrainingModule } from '@diyml/training';
import { HealthController } from './health/health.controller.js';

const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A successful /health answer is not logged: probes ask every few seconds (500 at once cost ~15% of the api's CPU
 * in log lines alone), and each one would bury the requests that matter. A failing one still is.
 */
function logLevelOf(request: IncomingMessage, response: ServerResponse, error?: Error): 'info' | 'silent' {
  const quiet = !error && response.statusCode < 400 && request.url === '/health';
  return quiet ? 'silent' : 'info';
}

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
          customLogLevel: logLevelOf,
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
