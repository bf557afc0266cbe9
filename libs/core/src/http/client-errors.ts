import type { Server, ServerResponse } from 'node:http';
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
