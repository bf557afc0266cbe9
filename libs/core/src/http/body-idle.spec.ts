import { afterEach, describe, expect, it, vi } from 'vitest';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { answerIfBodyStalls } from './body-idle.js';

const IDLE_MS = 150;
/**
 * How long an exchange may take, a cap only: each ends when the server closes the connection (`Connection: close`).
 * 1.5 s passed with no answer at all once in CI, beside the type checks on a loaded 2-core machine.
 */
const ANSWER_WAIT_MS = 20_000;
vi.setConfig({ testTimeout: ANSWER_WAIT_MS + 5_000 });

/** A server that watches bodies with answerIfBodyStalls, then lets `handle` answer. */
async function serve(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<Server> {
  const server = createServer((request, response) => {
    answerIfBodyStalls(request, response, IDLE_MS);
    handle(request, response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Sends `head` and `body` on a raw connection and reads until the api closes it (or ANSWER_WAIT_MS pass). */
function exchange(server: Server, head: string, body: string): Promise<string> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(head + body));
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, ANSWER_WAIT_MS);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('close', done);
    socket.on('error', done);
  });
}

const post = (length: number) => `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${length}\r\n\r\n`;

describe('answerIfBodyStalls', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server?.closeAllConnections();
  });

  it('answers 408 BODY_IDLE_TIMEOUT when the body stops arriving', async () => {
    server = await serve((request, response) => request.on('end', () => response.end('read')).resume());
    const answer = await exchange(server, post(10), 'half');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('"code":"BODY_IDLE_TIMEOUT"');
  });

  it('does not count a pause the server makes before reading a body that has all arrived', async () => {
    server = await serve((request, response) => {
      void sleep(IDLE_MS * 3).then(() => request.on('end', () => response.end('read')).resume());
    });
    const answer = await exchange(server, post(4), 'full');
    expect(answer).toMatch(/^HTTP\/1\.1 200[\s\S]*read$/);
  });

  it('does not count a pause the server makes while a large body waits for it (backpressure)', async () => {
    server = await serve((request, response) => {
      let bytes = 0;
      void sleep(IDLE_MS * 3).then(() =>
        request.on('data', (chunk: Buffer) => (bytes += chunk.length)).on('end', () => response.end(`read ${bytes}`)),
      );
    });
    const body = 'x'.repeat(8 * 1024 * 1024);
    const answer = await exchange(server, post(body.length), body);
    expect(answer).toMatch(/^HTTP\/1\.1 200[\s\S]*read 8388608$/);
  });

  it('does not cut an answer that takes longer than the timeout once the body is read', async () => {
    server = await serve((request, response) => {
      request.on('end', () => void sleep(IDLE_MS * 3).then(() => response.end('slow answer'))).resume();
    });
    const answer = await exchange(server, post(4), 'full');
    expect(answer).toMatch(/^HTTP\/1\.1 200[\s\S]*slow answer$/);
  });

  it('does not cut a streamed answer that pauses longer than the timeout', async () => {
    server = await serve((request, response) => {
      request.on('end', () => {
        response.write('first ');
        void sleep(IDLE_MS * 3).then(() => response.end('last'));
      });
      request.resume();
    });
    const answer = await exchange(server, post(4), 'full');
    expect(answer).toMatch(/first [\s\S]*last/);
  });
});
