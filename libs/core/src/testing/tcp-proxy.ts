import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy put between a process and a server (PostgreSQL, Redis) to play an outage: `cut()` closes every
 * connection through it and refuses new ones, as a server that went away does; `restore()` lets them through again.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  private listening?: number;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Listens on `port` (a free one by default) and forwards to the host and port of `targetUrl`. */
  static async start(targetUrl: string, port = 0): Promise<TcpProxy> {
    const target = new URL(targetUrl);
    const defaultPort = target.protocol.startsWith('redis') ? 6379 : 5432;
    const proxy = new TcpProxy(target.hostname, Number(target.port || defaultPort));
    await proxy.listen(port);
    return proxy;
  }

  get port(): number {
    return this.listening!;
  }

  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /** Every open connection is closed and new ones are refused (the port no longer listens). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restore(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {}); // the other side is destroyed below; nobody else listens
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.server = server;
    this.listening = (server.address() as AddressInfo).port;
  }
}
