import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';

type Middleware = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

const LEFT_UNREAD = Symbol('body left unread');

/** Whether parseBodyOnlyIf decided this request's body is not worth reading. */
export function isBodyLeftUnread(request: IncomingMessage): boolean {
  return (request as IncomingMessage & { [LEFT_UNREAD]?: boolean })[LEFT_UNREAD] === true;
}

/**
 * Runs a body parser only for requests `allowed` accepts (say, those carrying a valid key), so a large body
 * limit is spent on callers the route will serve. Other requests keep their body unread (the JSON parsers
 * behind skip it, see jsonBodyOptions): the route's guard refuses the request and the connection is closed
 * after the answer, rather than kept to receive (and throw away) the rest of the upload.
 */
export function parseBodyOnlyIf(
  allowed: (request: IncomingMessage) => Promise<boolean>,
  parser: Middleware,
): Middleware {
  return (request, response, next) => {
    allowed(request).then((yes) => {
      if (yes) return parser(request, response, next);
      (request as IncomingMessage & { [LEFT_UNREAD]?: boolean })[LEFT_UNREAD] = true;
      response.setHeader('Connection', 'close');
      next();
    }, next);
  };
}

/** body-parser's `type` test for JSON bodies, skipping those parseBodyOnlyIf left unread. */
export function isJsonToRead(request: IncomingMessage): boolean {
  return !isBodyLeftUnread(request) && Boolean((request as Request).is('application/json'));
}
