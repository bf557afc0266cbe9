import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Transform } from 'node:stream';
import { TextDecoder } from 'node:util';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Request } from 'express';
import type { Settings } from '../config/settings.js';
import { DomainError } from '../domain/domain-error.js';
import { answerIfBodyStalls } from './body-idle.js';
import { assertJsonShape, type JsonShapeLimits } from './json-shape.js';
import { OperationMatcher, pathOf } from './route-paths.js';

type Middleware = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

/** An operation of the api, as its OpenAPI document names it. */
export interface BodyRoute {
  method: string;
  /** The OpenAPI path template (`/v1/projects/{projectId}/labels`). */
  path: string;
  /** Whether it takes a JSON body; the others read their bodies themselves (multipart, images) or take none. */
  json: boolean;
  /** Its largest JSON body in bytes, when not JSON_MAX_BYTES. */
  limit?: number;
  /** When set, the body is read only for requests this accepts (a valid key, say): the others are answered unread. */
  readIf?: (request: IncomingMessage) => Promise<boolean>;
}

function hasBody(request: IncomingMessage): boolean {
  return request.headers['transfer-encoding'] !== undefined || request.headers['content-length'] !== undefined;
}

function tooLarge(limit: number): DomainError {
  return new DomainError(
    'too-large',
    'PAYLOAD_TOO_LARGE',
    `The request body is larger than ${limit} bytes: send less.`,
    { maxBytes: limit },
  );
}

function malformed(reason: string): DomainError {
  return DomainError.validation('MALFORMED_JSON', `The request body is not valid JSON: ${reason}.`);
}

function decoderOf(contentType = ''): TextDecoder {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]?.toLowerCase() ?? 'utf-8';
  const refused = () =>
    new DomainError(
      'unsupported-media-type',
      'UNSUPPORTED_CHARSET',
      `The charset "${charset.slice(0, 40)}" is not supported: send UTF-8 JSON.`,
    );
  if (!charset.startsWith('utf-')) throw refused();
  try {
    return new TextDecoder(charset, { fatal: false });
  } catch {
    throw refused();
  }
}

/** An inflating stream when the client compressed its body (the limit then counts inflated bytes). */
function inflaterOf(request: IncomingMessage): Transform | null {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  const inflate = { identity: null, gzip: createGunzip, deflate: createInflate, br: createBrotliDecompress }[encoding];
  if (inflate === undefined) {
    throw new DomainError(
      'unsupported-media-type',
      'UNSUPPORTED_CONTENT_ENCODING',
      `The content encoding "${encoding.slice(0, 40)}" is not supported: send identity, gzip, deflate or br.`,
    );
  }
  return inflate === null ? null : request.pipe(inflate());
}

/**
 * Reads at most `limit` bytes, then stops reading: the rest of an oversized upload stays in the socket (which the
 * answer closes) instead of being received and thrown away, as body-parser does before it answers 413.
 */
async function readAtMost(request: IncomingMessage, limit: number): Promise<Buffer> {
  const inflater = inflaterOf(request);
  const source = inflater ?? request;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (error) {
    if (inflater) {
      request.unpipe(inflater);
      inflater.destroy();
    }
    request.pause();
    throw error instanceof DomainError
      ? error
      : DomainError.validation('BODY_INCOMPLETE', 'The request body could not be read to its end: send it again.');
  }
  return Buffer.concat(chunks, size);
}

/** How long a client may pause its unread body after the answer before its connection is dropped. */
const LINGER_IDLE_MS = 2000;
/** The longest a client may go on sending a body nobody reads after its answer (as nginx's lingering_time). */
const LINGER_MAX_MS = 30_000;

/**
 * Ends the connection once the answer is sent while its body is not all received (an early 401, 413 or 404, an
 * upload refused midway), and says so in that answer (`Connection: close`): a keep-alive client would otherwise
 * send its next request on a connection about to close, or after bytes of the unread body. It closes with a
 * lingering close: a socket closed while unread bytes wait in it is reset, and a
 * client still uploading would then lose the answer to ECONNRESET or EPIPE. So the api half-closes and throws away
 * what still arrives (no parsing, nothing kept) while the client keeps sending, then drops the connection once it
 * has been silent for LINGER_IDLE_MS, or after LINGER_MAX_MS at most. Node itself ends a `Connection: close`
 * exchange with `socket.destroySoon()`, which destroys the socket as soon as the answer is written (the reset
 * again, ~1 in 100 uploads at load 8 per core): that call lingers too while the body is unread.
 */
function closeIfLeftUnread(request: IncomingMessage, response: ServerResponse): void {
  const connection = lingeringCloseOf(request);
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
  response.writeHead = ((...args: unknown[]) => {
    if (!request.complete) response.shouldKeepAlive = false;
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
  response.once('finish', () => {
    if (!request.complete) connection.linger();
  });
}

interface LingeringClose {
  /** The connection's latest request with a body, whose unread rest a close would reset. */
  request: IncomingMessage;
  linger(): void;
}

const lingeringCloses = new WeakMap<Socket, LingeringClose>();

/**
 * The lingering close of a request's connection, which keeps only its latest request: the socket's `destroySoon`
 * is replaced once, at its first request with a body. Replaced at each request, every wrapper held its request and
 * answer for the connection's life (116 MB for 10,000 requests on one keep-alive connection), and a close after
 * 20,000 ran the wrappers one inside the other past the stack's depth (an uncaught RangeError).
 */
function lingeringCloseOf(request: IncomingMessage): LingeringClose {
  const socket = request.socket;
  const known = lingeringCloses.get(socket);
  if (known) {
    known.request = request;
    return known;
  }
  const destroySoon = socket.destroySoon.bind(socket);
  let lingering = false;
  const connection: LingeringClose = {
    request,
    linger() {
      if (lingering) return;
      lingering = true;
      socket.end();
      connection.request.resume();
      socket.setTimeout(LINGER_IDLE_MS, () => socket.destroy());
      const deadline = setTimeout(() => socket.destroy(), LINGER_MAX_MS).unref();
      socket.once('close', () => clearTimeout(deadline));
    },
  };
  socket.destroySoon = () => (connection.request.complete ? destroySoon() : connection.linger());
  lingeringCloses.set(socket, connection);
  return connection;
}

/** Parses like body-parser's strict `json()`: an object or an array, `{}` for an empty body, after the shape limits. */
function parseJson(bytes: Buffer, decoder: TextDecoder, shape: JsonShapeLimits): unknown {
  const text = decoder.decode(bytes);
  if (text.trim() === '') return {};
  assertJsonShape(text, shape);
  const first = /^[\s\uFEFF]*(.)/.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw malformed('send an object or an array');
  try {
    return JSON.parse(text);
  } catch {
    throw malformed('check its syntax');
  }
}

/**
 * The api's only body reader for JSON, in front of routing: a body is read only when its method and path name
 * an operation that takes JSON, within that operation's limit (JSON_MAX_BYTES unless it has its own), and checked
 * for depth and key count before JSON.parse (see assertJsonShape). Any other body (an unknown path, a GET, a route
 * taking none, a caller `readIf` refuses) is left unread: parsing every anonymous body up to 1 MiB before
 * routing cost ~35 ms of CPU per MiB. A declared Content-Length over the limit is answered 413 at once; a chunked
 * body is read up to the limit only. Any body, JSON or not, that is not all received when its answer is sent has
 * its connection closed after the answer (closeIfLeftUnread); one that stops arriving for BODY_IDLE_TIMEOUT_SECONDS
 * is answered 408 (answerIfBodyStalls).
 */
export function jsonBodies(routes: BodyRoute[], settings: Settings): Middleware {
  const operations = new OperationMatcher(routes);
  const shape: JsonShapeLimits = {
    maxDepth: settings.JSON_MAX_DEPTH,
    maxKeys: settings.JSON_MAX_KEYS,
    maxKeysPerObject: settings.JSON_MAX_KEYS_PER_OBJECT,
  };
  return (request, response, next) => {
    if (!hasBody(request)) return next();
    closeIfLeftUnread(request, response);
    answerIfBodyStalls(request, response, settings.BODY_IDLE_TIMEOUT_SECONDS * 1000);
    const route = operations.find(request.method, pathOf(request.url));
    if (!route) return next();
    if (!(request as Request).is('application/json')) return next();
    if (!route.json) return next();
    const limit = route.limit ?? settings.JSON_MAX_BYTES;
    const read = async () => {
      if (route.readIf && !(await route.readIf(request))) return next();
      const declared = Number(request.headers['content-length']);
      if (declared > limit) throw tooLarge(limit);
      const decoder = decoderOf(request.headers['content-type']);
      (request as Request).body = parseJson(await readAtMost(request, limit), decoder, shape);
      next();
    };
    read().catch(next);
  };
}
