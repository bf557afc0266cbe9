import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { createValidationPipe, DomainExceptionFilter } from '../../../libs/core/src/index.js';
import { serveConsole } from './console/serve-console.js';
import { createOpenApiDocument } from './openapi-document.js';

/** Everything main.ts and the HTTP tests share: logging, validation, errors, Swagger, the console. */
/** Batches of base64 images (Custom Vision's createImagesFromFiles) are JSON: allow them, within reason. */
const JSON_BODY_LIMIT = '32mb';

export function configureApp(app: INestApplication): INestApplication {
  app.useLogger(app.get(Logger));
  (app as NestExpressApplication).useBodyParser('json', { limit: JSON_BODY_LIMIT });
  // ETags name resource revisions here (set by the routes that have one), not hashes of bodies.
  const express = app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void };
  express.set('etag', false);
  express.set('x-powered-by', false);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new DomainExceptionFilter());
  app.enableShutdownHooks();
  const document = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  serveConsole(app);
  return app;
}
