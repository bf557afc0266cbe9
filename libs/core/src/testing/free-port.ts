import { createServer, type AddressInfo } from 'node:net';

/**
 * A TCP port the OS reports free on every interface now. Tests and benchmarks that start servers in other
 * processes use it: a port drawn from a fixed range collides with other servers and outgoing connections.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
