import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from './domain-exception.filter.js';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

interface ConnectionState {
  inFlight: number;
  refused: boolean;
}

const REFUSAL: ErrorBody = {
  statusCode: 503,
  code: 'TOO_MANY_PIPELINED_REQUESTS',
  message: 'Too many requests were sent on this connection without waiting for their answers: wait for each answer.',
};
const REFUSAL_BODY = JSON.stringify(REFUSAL);

/**
 * Node starts every request pipelined on one connection at once, each handler's synchronous part in the same tick:
 * 1,000 pipelined GETs (40 KB sent once) held the event loop for ~0.8 s of CPU. A connection that has more than
 * `maxInFlight` requests unanswered gets 503 TOO_MANY_PIPELINED_REQUESTS for the rest and is closed. Clients that
 * wait for each answer (all the usual ones) have one in flight and keep their connection: Node's
 * `maxRequestsPerSocket` capped the requests of a connection in total instead, so 200 kept-alive clients at 2,400
 * requests/s reconnected 24 times a second and kept the accept queue full (a new connection waited seconds).
 * Call it once the request listeners are attached (Nest attaches its adapter's when it creates the server).
 */
export function limitRequestsInFlight(server: Server, maxInFlight: number): void {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length === 0)
    throw new Error("limitRequestsInFlight needs the server's request listener attached first");
  server.removeAllListeners('request');
  const connections = new WeakMap<Socket, ConnectionState>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    let state = connections.get(socket);
    if (!state) connections.set(socket, (state = { inFlight: 0, refused: false }));
    if (state.refused || state.inFlight >= maxInFlight) {
      state.refused = true;
      response.shouldKeepAlive = false;
      response.writeHead(503, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(REFUSAL_BODY),
      });
      response.end(REFUSAL_BODY);
      return;
    }
    state.inFlight += 1;
    const counted = state;
    response.once('close', () => (counted.inFlight -= 1));
    for (const listener of listeners) listener.call(server, request, response);
  });
}
