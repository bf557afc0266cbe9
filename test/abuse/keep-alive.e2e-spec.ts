import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { baseUrlOf } from '../support/liveness-probe.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

vi.setConfig({ testTimeout: 60_000 });

/** The client gives up on a connection the api neither closes nor answers again within this (a hung test, not a speed check). */
const GIVE_UP_MS = 20_000;

interface Conversation {
  /** Status lines and `Connection` headers of every answer read, in order. */
  answers: { status: number; connection: string | undefined }[];
  /** Whether the api closed the connection (rather than the client giving up). */
  closedByApi: boolean;
}

/**
 * Writes `requests` on one connection (each a head and the part of its body the client sends before waiting), the
 * next only after the answer to the previous one, as a keep-alive client does, and reads until the api closes the
 * connection or no request is left to send.
 */
function converse(baseUrl: string, requests: string[]): Promise<Conversation> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const answers: Conversation['answers'] = [];
    let received = '';
    let next = 0;
    const socket = connect(Number(url.port), url.hostname, () => socket.write(requests[next++]));
    const finish = (closedByApi: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ answers, closedByApi });
    };
    const timer = setTimeout(() => finish(false), GIVE_UP_MS);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      for (;;) {
        const headEnd = received.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = received.slice(0, headEnd);
        let end = headEnd + 4 + Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const lastChunk = received.indexOf('0\r\n\r\n', headEnd + 4);
          end = lastChunk < 0 ? Infinity : lastChunk + 5;
        }
        if (received.length < end) return;
        const connection = /\r\nconnection: *([^\r]+)/i.exec(head)?.[1]?.toLowerCase();
        answers.push({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), connection });
        received = received.slice(end);
        // A client that honours `Connection: close` sends nothing more and waits for the close.
        if (connection === 'close') continue;
        if (next < requests.length) socket.write(requests[next++]);
        else finish(false);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
  });
}

const health = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';

/** A full garbage collection, so that the heap measured holds only what is still referenced. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Requests written at once on one connection, under the api's limit of pipelined requests (32). */
const BATCH = 30;

/**
 * Writes `count` copies of `request` on one connection, BATCH at a time (the next batch once every answer came),
 * then `last`; answers how many answers were read and whether the api closed the connection after the last one.
 */
function manyOnOneConnection(
  baseUrl: string,
  request: string,
  count: number,
  last: string,
  whileOpen: () => void,
): Promise<{ answered: number; closedByApi: boolean }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let answered = 0;
    let sent = 0;
    let tail = '';
    const socket = connect(Number(url.port), url.hostname, () => sendBatch());
    const sendBatch = () => {
      const size = Math.min(BATCH, count - sent);
      sent += size;
      socket.write(request.repeat(size));
    };
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ answered, closedByApi: false });
    }, GIVE_UP_MS);
    socket.on('data', (chunk: Buffer) => {
      timer.refresh();
      const text = tail + chunk.toString('latin1');
      answered += text.match(/HTTP\/1\.1 \d{3} /g)?.length ?? 0;
      // A status line cut in two by the chunk boundary is read with the next chunk.
      tail = text.slice(Math.max(text.lastIndexOf('\n') + 1, text.length - 16));
      if (answered < sent) return;
      if (sent < count) return sendBatch();
      if (answered === count) {
        whileOpen();
        sent += 1;
        socket.write(last);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answered, closedByApi: true });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
  });
}

/**
 * Answers the api sends before it has read the request's body (a body too large, no credentials, no such path)
 * end the connection, and say so: a keep-alive client that took `Connection: keep-alive` at its word sent its next
 * request on a connection the api was closing, or had it read as the rest of the unread body.
 */
describe('answers sent before the body is read close the connection and say so', () => {
  let testApp: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    baseUrl = await baseUrlOf(testApp);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it.each([
    {
      refusal: '413 for a login body declared larger than 64 KiB',
      status: 413,
      head: 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n',
    },
    {
      refusal: '401 for an upload without credentials',
      status: 401,
      head: `POST /v1/projects/${randomUUID()}/images HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 20000000\r\n\r\n`,
    },
    {
      refusal: '404 for a body sent to a path no operation serves',
      status: 404,
      head: 'POST /v1/no-such-route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n',
    },
  ])('$refusal', async ({ head, status }) => {
    const conversation = await converse(baseUrl, [head + '{"a":"' + 'x'.repeat(4000), health]);
    expect(conversation).toEqual({ answers: [{ status, connection: 'close' }], closedByApi: true });
  });

  it('keeps the connection of a request whose body was read whole, however it was answered', async () => {
    const body = JSON.stringify({ username: 'nobody-here', password: 'not the password' });
    const login = `POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const conversation = await converse(baseUrl, [login, health]);
    expect(conversation).toEqual({
      answers: [
        { status: 401, connection: 'keep-alive' },
        { status: 200, connection: 'keep-alive' },
      ],
      closedByApi: false,
    });
  });

  it('keeps nothing of the earlier requests of a connection: 25,000 with an empty body, then one that closes it, the api staying up', async () => {
    // Each request with a body (Content-Length: 0 too) wrapped the connection's close in one more function that kept
    // the request and its answer: ~11 KB held per request for the connection's life (116 MB for 10,000), and the
    // close then ran every wrapper in one call, past the stack's depth (RangeError, an uncaught exception that ends
    // the api's process).
    const count = 25_000;
    const empty = 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n';
    const uncaught: unknown[] = [];
    const collect = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', collect);
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapGrowth = 0;
    try {
      const conversation = await manyOnOneConnection(
        baseUrl,
        empty,
        count,
        empty.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'),
        () => {
          collectGarbage();
          heapGrowth = process.memoryUsage().heapUsed - heapBefore;
        },
      );
      expect({ ...conversation, uncaught: uncaught.map(String) }).toEqual({
        answered: count + 1,
        closedByApi: true,
        uncaught: [],
      });
      expect((await testApp.http.get('/health')).status).toBe(200);
    } finally {
      process.off('uncaughtException', collect);
    }
    expect(heapGrowth / count, 'heap bytes held per request while the connection is open').toBeLessThan(1024);
  }, 180_000);
});
