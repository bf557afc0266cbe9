import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import compression from 'compression';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { Express, Request } from 'express';
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import {
  answerMalformedRequests,
  answerUnparsableTargets,
  answerUnknownRoutes,
  type BodyRoute,
  type DocumentedOperation,
  createValidationPipe,
  DomainExceptionFilter,
  fixedBodyHandler,
  jsonBodies,
  limitConnections,
  limitRequestsInFlight,
  defaultMaxConnections,
  precompressedFiles,
  Settings,
} from '@diyml/core';
import { hasValidTrainingKey, IMAGE_FILES_JSON_PATH } from '@diyml/custom-vision';
import { AUTH_JSON_MAX_BYTES, AUTH_ROUTES_PATH, BearerAuthenticator } from '@diyml/identity';
import { ReadStore } from '@diyml/read-store';
import { serveConsole } from './console/serve-console.js';
import { createOpenApiDocument } from './openapi-document.js';

/** 32 pipelined requests hold the event loop for ~25 ms at most (see limitRequestsInFlight). */
const MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION = 32;

/**
 * Everything main.ts and the HTTP tests share: logging, hardening, body limits, validation, errors, Swagger, the console.
 * `document`: the app's OpenAPI document when it is already known (the tests build it once per test worker).
 */
export function configureApp(
  app: INestApplication,
  document: OpenAPIObject = createOpenApiDocument(app),
): INestApplication {
  app.useLogger(app.get(Logger));
  const server = app.getHttpServer() as Server;
  const settings = app.get(Settings);
  limitConnections(server, {
    total: settings.MAX_CONNECTIONS ?? defaultMaxConnections(),
    perClient: settings.MAX_CONNECTIONS_PER_CLIENT,
  });
  answerUnparsableTargets(server);
  limitRequestsInFlight(server, MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION);
  server.requestTimeout = settings.REQUEST_TIMEOUT_SECONDS * 1000;
  answerMalformedRequests(server);
  configureHardening(app);
  configureJsonBodies(app, document);
  // ETags name resource revisions here (set by the routes that have one), not hashes of bodies.
  const express = app.getHttpAdapter().getInstance() as Pick<Express, 'set' | 'get' | 'use'>;
  express.set('etag', false);
  express.set('x-powered-by', false);
  const { TRUST_PROXY } = settings;
  if (TRUST_PROXY) express.set('trust proxy', /^\d+$/.test(TRUST_PROXY) ? Number(TRUST_PROXY) : TRUST_PROXY);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new DomainExceptionFilter());
  app.enableShutdownHooks();
  // The document and Swagger UI's files are compressed once, not per anonymous request (see precompressedFiles).
  express.get('/docs-json', fixedBodyHandler(JSON.stringify(document), 'application/json; charset=utf-8'));
  express.use('/docs', precompressedFiles(swaggerUiAssetsDirectory(), { cacheControl: 'public, max-age=3600' }));
  const swaggerUiInit = fixedBodyHandler(SWAGGER_UI_INIT, 'text/javascript; charset=utf-8');
  express.get(['/docs/swagger-ui-init.js', '/docs/docs/swagger-ui-init.js'], swaggerUiInit);
  SwaggerModule.setup('docs', app, document, {
    // /docs-json and Swagger UI's start script are answered above.
    raw: false,
  });
  serveConsole(app);
  // Last before Nest's own routes: Custom Vision's 404 controller is left out of the document.
  app.use(answerUnknownRoutes(documentedOperations(document), ['/customvision']));
  return app;
}

/** Every operation of the document, with its OpenAPI path template. */
function documentedOperations(document: OpenAPIObject): DocumentedOperation[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    (['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const)
      .filter((method) => operations[method])
      .map((method) => ({ method, path })),
  );
}

/**
 * Swagger UI's start script. @nestjs/swagger's own embeds the whole document and is compressed again for every
 * request (~1 MB for each anonymous GET); this one loads /docs-json, which is compressed once and cached by ETag.
 */
const SWAGGER_UI_INIT = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/docs-json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
};
`;

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
 * JSON bodies are read only for the operations of the OpenAPI document that take one (see jsonBodies), size-,
 * depth- and key-limited before they are parsed: JSON_MAX_BYTES, AUTH_JSON_MAX_BYTES on the anonymous sign-up and
 * login routes and on Custom Vision's prediction routes (a URL), and JSON_IMAGES_MAX_BYTES on the route whose bodies
 * carry base64 images. The body of an operation behind a login token or a training key is read only once that
 * credential is known to be valid: 50 anonymous 1 MiB bodies sent to `POST /v1/projects` were each parsed before
 * their 401, holding /health for 2-5 s and raising the api's memory by ~250 MB (and 32 MiB image batches for
 * seconds each). The app must be created with `bodyParser: false`: Nest's own parsers would read every body on
 * every path.
 */
function configureJsonBodies(app: INestApplication, document: OpenAPIObject): void {
  const settings = app.get(Settings);
  const readStore = app.get(ReadStore);
  const bearer = app.get(BearerAuthenticator);
  // Read-only checks: the route's own guard still authenticates the request, and counts a refusal.
  const validCredential: Record<string, (request: IncomingMessage) => Promise<boolean>> = {
    bearer: (request) => bearer.accepts(request.headers.authorization),
    'training-key': (request) => hasValidTrainingKey(readStore, request as Request),
  };
  const imageFiles = IMAGE_FILES_JSON_PATH.replace(/:(\w+)/g, '{$1}');
  const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
    (['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const).flatMap((method): BodyRoute[] => {
      const operation = operations[method];
      if (!operation) return [];
      const body = operation.requestBody;
      // Custom Vision's operations read JSON bodies their document leaves undescribed: only a body described
      // as something else (multipart, image bytes), or a GET's, is left unread.
      const json =
        body && 'content' in body ? 'application/json' in body.content : !['get', 'head', 'options'].includes(method);
      const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
      const readIf = schemes.map((scheme) => validCredential[scheme]).find(Boolean);
      const limit =
        path === imageFiles
          ? settings.JSON_IMAGES_MAX_BYTES
          : path.startsWith(`${AUTH_ROUTES_PATH}/`) || schemes.includes('prediction-key')
            ? AUTH_JSON_MAX_BYTES
            : undefined;
      return [{ method, path, json, limit, readIf }];
    }),
  );
  app.use(jsonBodies(routes, settings));
}
