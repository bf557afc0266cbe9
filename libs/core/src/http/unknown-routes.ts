import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import { boundedMessage, type ErrorBody } from './domain-exception.filter.js';
import { type DocumentedOperation, OperationMatcher, pathOf } from './route-paths.js';

type Middleware = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;

/**
 * Answers 404 NOT_FOUND, with the body Nest's own 404 has, to every request that no operation of the OpenAPI
 * document serves and that no path prefix in `servedElsewhere` (routes left out of the document) claims. Such
 * requests (a scanner's guesses, a mistyped path) used to go through request logging, the whole route table
 * and Nest's exception path, and cost the api about twice the CPU of a `/health` answer. Register it after
 * everything the document does not describe (Swagger UI, the console's files) and before Nest's routes.
 */
export function answerUnknownRoutes(
  operations: readonly DocumentedOperation[],
  servedElsewhere: readonly string[],
): Middleware {
  const matcher = new OperationMatcher(operations);
  const prefixes = servedElsewhere.map((prefix) => prefix.replace(/\/$/, '').toLowerCase());
  const claimed = (path: string) => {
    const lower = path.toLowerCase();
    return prefixes.some((prefix) => lower === prefix || lower.startsWith(`${prefix}/`));
  };
  return (request, response, next) => {
    if (matcher.serves(request) || claimed(pathOf(request.url))) return next();
    const url = (request as Partial<Request>).originalUrl ?? request.url;
    const body: ErrorBody = {
      statusCode: 404,
      code: 'NOT_FOUND',
      message: boundedMessage(`Cannot ${request.method} ${url}`),
    };
    response.statusCode = 404;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.end(JSON.stringify(body));
  };
}
