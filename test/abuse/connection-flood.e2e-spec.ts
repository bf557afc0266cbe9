import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, type Socket } from 'node:net';
import { baseUrlOf } from '../support/liveness-probe.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

vi.setConfig({ testTimeout: 60_000 });

const TOTAL = 60;
const PER_CLIENT = 20;
/** A hung test's bound, not a speed check. */
const GIVE_UP_MS = 20_000;

interface Connection {
  socket: Socket;
  /** Settles when the api closes the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
}

/** An idle connection from `localAddress` (each loopback address is a client of its own, as another machine is). */
function open(port: number, localAddress: string): Promise<Connection> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const closedPromise = new Promise<void>((settle) => socket.once('close', () => settle()));
    socket.once('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed: closedPromise, isClosed: () => closed }));
    socket.once('error', reject);
  });
}

function openMany(port: number, localAddress: string, count: number): Promise<Connection[]> {
  return Promise.all(Array.from({ length: count }, () => open(port, localAddress)));
}

/** The status of `GET /health` asked on `connection`, or `closed` when the api closes it instead. */
function health(connection: Connection): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (status && received.includes('\r\n\r\n')) {
        connection.socket.off('data', onData);
        resolve(Number(status[1]));
      }
    };
    connection.socket.on('data', onData);
    void connection.closed.then(() => resolve('closed'));
    connection.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
  });
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const giveUp = Date.now() + GIVE_UP_MS;
  while (!check()) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a flood of idle connections (issue 17: 20,000 of them took every file descriptor the api had)', () => {
  let testApp: TestApp;
  let port: number;
  const everyConnection: Connection[] = [];

  beforeAll(async () => {
    testApp = await startTestApp({
      settings: { MAX_CONNECTIONS: String(TOTAL), MAX_CONNECTIONS_PER_CLIENT: String(PER_CLIENT) },
    });
    port = Number(new URL(await baseUrlOf(testApp)).port);
  });

  afterAll(async () => {
    everyConnection.forEach((connection) => connection.socket.destroy());
    await testApp?.close();
  });

  it('holds one client to its share of connections while others still get answers', async () => {
    const flood = await openMany(port, '127.0.0.2', PER_CLIENT * 2);
    everyConnection.push(...flood);
    await eventually(
      () => flood.filter((connection) => connection.isClosed()).length >= PER_CLIENT,
      `the api closing ${PER_CLIENT} of the flood's connections`,
    );

    const kept = flood.filter((connection) => !connection.isClosed());
    expect(kept).toHaveLength(PER_CLIENT);
    expect(await Promise.all(kept.map(health))).toEqual(kept.map(() => 200));
    const [other] = await openMany(port, '127.0.0.3', 1);
    everyConnection.push(other);
    expect(await health(other)).toBe(200);
  });

  it('closes new connections once the total is open, and takes them again when some close', async () => {
    const more = [
      ...(await openMany(port, '127.0.0.4', PER_CLIENT)),
      ...(await openMany(port, '127.0.0.5', PER_CLIENT - 1)),
    ];
    everyConnection.push(...more);
    // 20 of the first test's flood, 1 from 127.0.0.3 and these 39: the total of 60 is reached.
    expect(await Promise.all(more.map(health))).toEqual(more.map(() => 200));

    const [beyondTotal] = await openMany(port, '127.0.0.6', 1);
    expect(await health(beyondTotal)).toBe('closed');

    more.forEach((connection) => connection.socket.destroy());
    // The api sees those closes a moment after the client made them.
    const giveUp = Date.now() + GIVE_UP_MS;
    let status: number | 'closed' = 'closed';
    while (status !== 200 && Date.now() < giveUp) {
      const [next] = await openMany(port, '127.0.0.7', 1);
      everyConnection.push(next);
      status = await health(next);
    }
    expect(status).toBe(200);
  });
});
