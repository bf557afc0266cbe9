import type { Server } from 'node:http';
import { createServer, type ListenOptions, type Server as NetServer } from 'node:net';

/**
 * Connections the kernel holds for the api while it is busy (Node's default is 511, capped by somaxconn): 500
 * clients connecting at once overflowed 511 (the kernel's ListenOverflows counter rose by hundreds), and every
 * dropped handshake is retried by the client only after 1 s, then 3 s, 7 s: the ~1 s /health delays seen.
 */
export const LISTEN_BACKLOG = 4096;
/** Sockets beside the first that accept the api's connections. */
export const ACCEPTORS = 7;

/**
 * Listens on `port` with `acceptors` more sockets on the same port, which hand their connections to `server`.
 * Node accepts one connection per event-loop iteration (libuv 1.45, "don't accept() connections in a loop"): when
 * 200 clients connect at once to a busy api, each iteration answers every request already in and takes one more
 * connection, so a connection behind them (a load balancer's /health) waited seconds in the kernel's queue. The
 * sockets share the port (SO_REUSEPORT: the kernel spreads new connections over them), so each iteration takes up
 * to one connection per socket. A port another process listens on is still refused (EADDRINUSE): SO_REUSEPORT
 * would otherwise let a second api share it silently.
 */
export async function listenWithAcceptors(
  server: Server,
  {
    port,
    host,
    backlog = LISTEN_BACKLOG,
    acceptors = ACCEPTORS,
  }: { port: number; host?: string; backlog?: number; acceptors?: number },
): Promise<void> {
  if (port !== 0) await ensurePortFree(port, host);
  await listen(server, { port, host, backlog, reusePort: true });
  const bound = (server.address() as { port: number }).port;
  const extra: NetServer[] = [];
  server.once('close', () => extra.forEach((acceptor) => acceptor.close()));
  for (let index = 0; index < acceptors; index += 1) {
    // Without Nagle's algorithm, as Node's HTTP server accepts its own connections: an answer written in pieces (a
    // gzipped one) otherwise waited for the client's delayed ACK, 40 ms, on the 7 connections in 8 taken here.
    const acceptor = createServer({ noDelay: true }, (socket) => server.emit('connection', socket));
    extra.push(acceptor);
    await listen(acceptor, { port: bound, host, backlog, reusePort: true });
  }
}

function listen(server: NetServer, options: ListenOptions & { reusePort: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function ensurePortFree(port: number, host: string | undefined): Promise<void> {
  const probe = createServer();
  await listen(probe, { port, host, reusePort: false });
  await new Promise((resolve) => probe.close(resolve));
}
