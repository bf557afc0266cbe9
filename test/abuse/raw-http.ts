import { fork } from 'node:child_process';
import { once } from 'node:events';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as sent on the wire (bytes), to bound its size. */
  bytes: number;
  text: string;
  body: Record<string, unknown>;
}

function readAnswer(incoming: IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = raw.toString('utf8');
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON: the test looks at `text`.
      }
      resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, bytes: raw.length, text, body: parsed });
    });
    incoming.on('error', reject);
  });
}

/**
 * One HTTP request to a listening app, from a chosen loopback address (127.0.0.N), so an attack from one
 * address and a user at another can be told apart by the api as they would be on a network.
 */
export function send(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string>; from?: string } = {},
): Promise<RawResponse> {
  const url = new URL(path, baseUrl);
  const body = options.body ?? undefined;
  const headers: Record<string, string | number> = { ...options.headers };
  if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers,
        localAddress: options.from,
      },
      (incoming) => readAnswer(incoming).then(resolve, reject),
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * Sends the headers and `body` of a request whose end never comes (its Content-Length promising more, or a
 * chunked body left open) and resolves with the answer: an api that waits for the whole body never answers.
 */
export function sendWithoutEnding(
  baseUrl: string,
  method: string,
  path: string,
  options: { body: Buffer; headers: Record<string, string>; from?: string },
): Promise<RawResponse> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers: options.headers,
        localAddress: options.from,
      },
      (incoming) =>
        readAnswer(incoming).then((answer) => {
          outgoing.destroy();
          resolve(answer);
        }, reject),
    );
    outgoing.on('error', reject);
    outgoing.write(options.body);
  });
}

export interface FloodRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Index into the bodies passed to flood(). */
  body?: number;
  from?: string;
}

export interface FloodAnswer {
  /** 0 when the connection failed (then `error` names why). */
  status: number;
  bytes: number;
  /** The `code` and `message` of a JSON error body. */
  code?: string;
  message?: string;
  contentEncoding?: string;
  retryAfter?: string;
  error?: string;
}

/**
 * Prepares a child process (http-flood-child.mjs) that sends all `requests` at once when `send` is called, and
 * answers what each got back. Large attacks go through it: sent from the test's own process, which is also the
 * api's, the client's work held the event loop the liveness probe measures (100 bodies of 1 MiB to unknown paths:
 * /health 3.5 s in-process, under 1 s from a child, at load 17). The bodies travel before the attack starts.
 */
export async function prepareFlood(
  baseUrl: string,
  bodies: Buffer[],
  requests: FloodRequest[],
): Promise<{ send(): Promise<FloodAnswer[]> }> {
  const child = fork(new URL('../support/http-flood-child.mjs', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = once(child, 'message');
  child.send({ baseUrl, bodies: bodies.map((body) => body.toString('base64')), requests });
  await ready;
  return {
    send: async () => {
      const answers = once(child, 'message');
      child.send('go');
      return (await answers)[0] as FloodAnswer[];
    },
  };
}

/** Writes `count` copies of one request on one connection at once (HTTP pipelining) and answers the status of every answer read before the connection closed. */
export function pipeline(baseUrl: string, request: string, count: number): Promise<number[]> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const statuses: number[] = [];
    let tail = '';
    const socket = connect(Number(url.port), url.hostname, () => socket.write(request.repeat(count)));
    socket.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      for (const match of text.matchAll(/HTTP\/1\.1 (\d{3}) /g)) statuses.push(Number(match[1]));
      // A status line cut in two by the chunk boundary is read with the next chunk.
      tail = text.slice(Math.max(text.lastIndexOf('\n') + 1, text.length - 16));
    });
    socket.on('close', () => resolve(statuses));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve(statuses) : reject(error),
    );
  });
}

/** What a raw exchange got back: the answer, or none when the api closed the connection without one. */
export interface RawExchange {
  /** 0 when the connection closed before an answer. */
  status: number;
  bytes: number;
  body: Record<string, unknown>;
}

/**
 * Writes `bytes` (a whole request, head and body, as given: a Content-Length may lie) on a new connection, then
 * half-closes it (`end`, as a client that has nothing more to send) or keeps it open (`hold`, as a client that
 * promised more and went quiet), and reads the first answer.
 */
export function exchange(baseUrl: string, bytes: Buffer, after: 'end' | 'hold'): Promise<RawExchange> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(bytes);
      if (after === 'end') socket.end();
    });
    const answer = (): RawExchange | null => {
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return null;
      const head = received.subarray(0, headEnd).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.NaN);
      const body = received.subarray(headEnd + 4);
      if (!Number.isFinite(length) || body.length < length) return null;
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(body.subarray(0, length).toString('utf8'));
      } catch {
        // Not JSON: the status and size tell.
      }
      return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), bytes: headEnd + 4 + length, body: parsed };
    };
    let settled = false;
    const settle = (result: RawExchange) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const result = answer();
      if (result) settle(result);
    });
    socket.on('close', () => settle(answer() ?? { status: 0, bytes: received.length, body: {} }));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
  });
}
