import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { ErrorBody } from './domain-exception.filter.js';

/** What Node's HTTP parser refuses, as the api's error body (Node's own answers carry no body). */
function answerOf(error: NodeJS.ErrnoException): ErrorBody {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        statusCode: 431,
        code: 'HEADERS_TOO_LARGE',
        message: 'The request headers are too large: send fewer or shorter ones.',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        statusCode: 408,
        code: 'REQUEST_TIMEOUT',
        message: 'The request took too long to arrive: send it again.',
      };
    default:
      return {
        statusCode: 400,
        code: 'MALFORMED_REQUEST',
        message: 'The request is not valid HTTP/1.1: check how it is framed.',
      };
  }
}

/**
 * Answers what Node's HTTP parser cannot read. Node's default drops the connection at once when a request is
 * still being answered on it, so a client whose body was longer than its Content-Length (the rest read as a
 * malformed next request) lost the answer to the request it did send (a 400 INVALID_MULTIPART): that answer
 * now goes out first, and nothing more is read. A request still waiting for its body is dropped as before. With
 * no request in flight, the error is answered in the api's error body, and the connection closed.
 */
export function answerMalformedRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight && !inFlight.writableFinished) {
      // A request still missing part of its body is dropped, as Node would: nothing more will come for it.
      if (inFlight.req.complete) inFlight.once('close', () => socket.destroy());
      else socket.destroy();
      return;
    }
    const answer = answerOf(error);
    const body = JSON.stringify(answer);
    socket.end(
      `HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
}

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

const UNPARSABLE_TARGET: ErrorBody = {
  statusCode: 400,
  code: 'MALFORMED_REQUEST',
  message: 'The request target is not a path or an absolute URL: send a path such as /v1/projects.',
};
const UNPARSABLE_TARGET_BODY = JSON.stringify(UNPARSABLE_TARGET);

/** A path (`/v1/…`), `*` (OPTIONS), or an absolute URL (a proxy's form) whose host and port can be read. */
function isParsableTarget(url = '/'): boolean {
  return url.startsWith('/') || url === '*' || URL.canParse(url);
}

/**
 * Answers 400 MALFORMED_REQUEST, and closes the connection, when the request target is an absolute URL that cannot
 * be parsed (`POST http://[::1`). Express's router cannot read its path and skips every middleware (error body,
 * security headers, body limits, the body idle timeout) to an HTML 404 written once the whole body has arrived: a
 * body that never came held the connection for REQUEST_TIMEOUT_SECONDS. Call it once the app's request listener is
 * attached.
 */
export function answerUnparsableTargets(server: Server): void {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length === 0)
    throw new Error("answerUnparsableTargets needs the server's request listener attached first");
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (isParsableTarget(request.url)) {
      for (const listener of listeners) listener.call(server, request, response);
      return;
    }
    response.shouldKeepAlive = false;
    response.writeHead(400, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(UNPARSABLE_TARGET_BODY),
    });
    response.end(UNPARSABLE_TARGET_BODY);
  });
}
