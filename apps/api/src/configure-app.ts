import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import compression from 'compression';
import { json } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { createValidationPipe, DomainExceptionFilter, jsonBodyOptions, Settings } from '../../../libs/core/src/index.js';
import { IMAGE_FILES_JSON_PATH } from '../../../libs/custom-vision/src/index.js';
import { serveConsole } from './console/serve-console.js';
import { createOpenApiDocument } from './openapi-document.js';

/** Everything main.ts and the HTTP tests share: logging, hardening, body limits, validation, errors, Swagger, the console. */
export function configureApp(app: INestApplication): INestApplication {
  app.useLogger(app.get(Logger));
  configureHardening(app);
  configureJsonBodies(app);
  // ETags name resource revisions here (set by the routes that have one), not hashes of bodies.
  const express = app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void };
  express.set('etag', false);
  express.set('x-powered-by', false);
  const { TRUST_PROXY } = app.get(Settings);
  if (TRUST_PROXY) express.set('trust proxy', /^\d+$/.test(TRUST_PROXY) ? Number(TRUST_PROXY) : TRUST_PROXY);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new DomainExceptionFilter());
  app.enableShutdownHooks();
  const document = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    // A token typed into "Authorize" survives a reload of the page.
    swaggerOptions: { persistAuthorization: true },
  });
  serveConsole(app);
  return app;
}

/**
 * Security headers (helmet's defaults: Swagger UI at /docs loads only its own scripts, so it works under them),
 * compression of JSON answers, and CORS for the origins CORS_ORIGINS names (none by default).
 */
function configureHardening(app: INestApplication): void {
  app.use(helmet());
  app.use(compression());
  const { CORS_ORIGINS } = app.get(Settings);
  if (CORS_ORIGINS) {
    app.enableCors({
      origin: CORS_ORIGINS.split(',').map((origin) => origin.trim()),
      exposedHeaders: ['ETag', 'Location', 'Retry-After'],
      maxAge: 600,
    });
  }
}

/**
 * JSON bodies are size-, depth- and key-limited before they are parsed (see jsonBodyOptions): JSON_MAX_BYTES
 * everywhere, JSON_IMAGES_MAX_BYTES on the route whose bodies carry base64 images.
 */
function configureJsonBodies(app: INestApplication): void {
  const settings = app.get(Settings);
  app.use(IMAGE_FILES_JSON_PATH, json(jsonBodyOptions(settings, settings.JSON_IMAGES_MAX_BYTES)));
  (app as NestExpressApplication).useBodyParser('json', jsonBodyOptions(settings));
}
