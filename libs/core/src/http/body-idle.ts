import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ErrorBody } from './domain-exception.filter.js';

/** The answer to a request whose body stopped arriving. */
export function bodyIdleAnswer(idleMs: number): ErrorBody {
  return {
    statusCode: 408,
    code: 'BODY_IDLE_TIMEOUT',
    message: `No byte of the request body arrived for ${idleMs / 1000} s: send the request again, without pausing.`,
  };
}

class BodyIdleTimeout extends Error {
  readonly code = 'BODY_IDLE_TIMEOUT';
}

/**
 * Answers 408 BODY_IDLE_TIMEOUT and closes the connection when no byte of the request's body arrives for `idleMs`,
 * so a client that dribbles a body holds no socket or buffer for the whole REQUEST_TIMEOUT_SECONDS. It uses the
 * socket's own idle timer only while the body is being received (Node refreshes it on every read): a streamed
 * answer (server-sent events, a download) is never cut, as the timer is given back once the body is all received
 * or answered. A pause the api causes itself (its reader slower than the client, or not reading yet: the
 * received bytes then wait in the request) does not count. The request is destroyed after the answer, so whoever
 * was reading it (a multipart upload) sees it fail and keeps nothing.
 */
export function answerIfBodyStalls(request: IncomingMessage, response: ServerResponse, idleMs: number): void {
  const socket = request.socket;
  const server = (socket as { server?: Server }).server;
  let watching = true;
  const stopWatching = () => {
    if (!watching) return;
    watching = false;
    request.off('timeout', onIdle);
    request.off('resume', onResume);
    response.off('timeout', onIdleAfterBody);
    // Once the answer is sent the timer is Node's (keep-alive) or the lingering close's: left to them.
    if (!response.writableFinished && !socket.destroyed) socket.setTimeout(server?.timeout ?? 0);
  };
  // Node emits 'timeout' on the request only while its body is incomplete.
  const onIdle = () => {
    if (response.headersSent) return;
    // Bytes waiting in it, or its reader started or resumed within the window: the api was the one pausing.
    if (request.readableLength > 0 || performance.now() - resumedAt < idleMs) {
      socket.setTimeout(idleMs);
      return;
    }
    stopWatching();
    const body = JSON.stringify(bodyIdleAnswer(idleMs));
    response.statusCode = 408;
    response.setHeader('Connection', 'close');
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Content-Length', Buffer.byteLength(body));
    response.end(body, () => request.destroy(new BodyIdleTimeout('The request body stopped arriving.')));
  };
  // Node emits it on the response too: once the body arrived whole (read to its end or not), the timer is no
  // longer the body's.
  const onIdleAfterBody = () => {
    if (request.complete) stopWatching();
  };
  let resumedAt = -Infinity;
  const onResume = () => (resumedAt = performance.now());
  socket.setTimeout(idleMs);
  request.on('resume', onResume);
  request.on('timeout', onIdle);
  response.on('timeout', onIdleAfterBody);
  request.once('end', stopWatching);
  response.once('finish', stopWatching);
  response.once('close', stopWatching);
}
