import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import compression from 'compression';
import { type Express, json, type Request } from 'express';
import { createRequire } from 'node:module';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import {
  createValidationPipe,
  DomainExceptionFilter,
  fixedBodyHandler,
  jsonBodyOptions,
  parseBodyOnlyIf,
  precompressedFiles,
  Settings,
} from '@diyml/core';
import { hasValidTrainingKey, IMAGE_FILES_JSON_PATH } from '@diyml/custom-vision';
import { AUTH_JSON_MAX_BYTES, AUTH_ROUTES_PATH } from '@diyml/identity';
import { ReadStore } from '@diyml/read-store';
import { serveConsole } from './console/serve-console.js';
import { createOpenApiDocument } from './openapi-document.js';

/** Everything main.ts and the HTTP tests share: logging, hardening, body limits, validation, errors, Swagger, the console. */
export function configureApp(app: INestApplication): INestApplication {
  app.useLogger(app.get(Logger));
  configureHardening(app);
  configureJsonBodies(app);
  // ETags name resource revisions here (set by the routes that have one), not hashes of bodies.
  const express = app.getHttpAdapter().getInstance() as Pick<Express, 'set' | 'get' | 'use'>;
  express.set('etag', false);
  express.set('x-powered-by', false);
  const { TRUST_PROXY } = app.get(Settings);
  if (TRUST_PROXY) express.set('trust proxy', /^\d+$/.test(TRUST_PROXY) ? Number(TRUST_PROXY) : TRUST_PROXY);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new DomainExceptionFilter());
  app.enableShutdownHooks();
  const document = createOpenApiDocument(app);
  // The document and Swagger UI's files are compressed once, not per anonymous request (see precompressedFiles).
  express.get('/docs-json', fixedBodyHandler(JSON.stringify(document), 'application/json; charset=utf-8'));
  express.use('/docs', precompressedFiles(swaggerUiAssetsDirectory(), { cacheControl: 'public, max-age=3600' }));
  SwaggerModule.setup('docs', app, document, {
    // /docs-json is answered above; Swagger UI embeds the document in its own script.
    raw: false,
    // A token typed into "Authorize" survives a reload of the page.
    swaggerOptions: { persistAuthorization: true },
  });
  serveConsole(app);
  return app;
}

/** Where Swagger UI's files are: the swagger-ui-dist copy @nestjs/swagger serves them from. */
function swaggerUiAssetsDirectory(): string {
  const fromSwagger = createRequire(createRequire(import.meta.url).resolve('@nestjs/swagger'));
  return (fromSwagger('swagger-ui-dist/absolute-path.js') as () => string)();
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
 * everywhere, JSON_IMAGES_MAX_BYTES on the route whose bodies carry base64 images, and only once its key is
 * known to be valid: parsing 32 MiB sent without a key used to hold the event loop for seconds. The anonymous
 * sign-up and login routes take AUTH_JSON_MAX_BYTES.
 */
function configureJsonBodies(app: INestApplication): void {
  const settings = app.get(Settings);
  const readStore = app.get(ReadStore);
  app.use(AUTH_ROUTES_PATH, json(jsonBodyOptions(settings, AUTH_JSON_MAX_BYTES)));
  app.use(
    IMAGE_FILES_JSON_PATH,
    parseBodyOnlyIf(
      (request) => hasValidTrainingKey(readStore, request as Request),
      json(jsonBodyOptions(settings, settings.JSON_IMAGES_MAX_BYTES)),
    ),
  );
  (app as NestExpressApplication).useBodyParser('json', jsonBodyOptions(settings));
}
