import { afterEach, describe, expect, it } from 'vitest';
import { createServer, get, type Server } from 'node:http';
import { connect } from 'node:net';
import { listenWithAcceptors } from './listen.js';

const servers: Server[] = [];

function answeringServer(): Server {
  const server = createServer((_request, response) => response.end('ok'));
  servers.push(server);
  return server;
}

function status(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) =>
    get({ port, host: '127.0.0.1', path: '/', agent: false }, (answer) => {
      answer.resume();
      answer.on('end', () => resolve(answer.statusCode));
    }).on('error', reject),
  );
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('listenWithAcceptors', () => {
  it('answers every connection, whichever of its sockets the kernel gave it to', async () => {
    const server = answeringServer();
    await listenWithAcceptors(server, { port: 0, backlog: 511, acceptors: 3 });
    const { port } = server.address() as { port: number };
    const statuses = await Promise.all(Array.from({ length: 64 }, () => status(port)));
    expect(statuses).toEqual(Array.from({ length: 64 }, () => 200));
  });

  it('refuses a port that another server listens on, instead of sharing it', async () => {
    const first = answeringServer();
    await listenWithAcceptors(first, { port: 0, backlog: 511, acceptors: 2 });
    const { port } = first.address() as { port: number };
    await expect(listenWithAcceptors(answeringServer(), { port, backlog: 511, acceptors: 2 })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    expect(await status(port)).toBe(200);
  });

  it('stops accepting on every socket once the server is closed', async () => {
    const server = answeringServer();
    await listenWithAcceptors(server, { port: 0, backlog: 511, acceptors: 3 });
    const { port } = server.address() as { port: number };
    servers.splice(servers.indexOf(server), 1);
    await new Promise((resolve) => server.close(resolve));
    const refused = await Promise.all(Array.from({ length: 16 }, () => refusesConnections(port)));
    expect(refused).toEqual(Array.from({ length: 16 }, () => true));
  });
});
