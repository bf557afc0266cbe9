import { request as httpRequest } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as sent on the wire (bytes), to bound its size. */
  bytes: number;
  text: string;
  body: Record<string, unknown>;
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
      (incoming) => {
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
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            bytes: raw.length,
            text,
            body: parsed,
          });
        });
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * Runs `attack` while asking /health every 100 ms; answers the attack's result and the slowest /health
 * answer, a liveness check: an api whose event loop is blocked answers /health late or not at all.
 */
export async function whileWatchingHealth<T>(
  baseUrl: string,
  attack: () => Promise<T>,
): Promise<{ result: T; slowestHealthMs: number }> {
  let slowestHealthMs = 0;
  let running = true;
  const watcher = (async () => {
    while (running) {
      const started = performance.now();
      const health = await send(baseUrl, 'GET', '/health');
      if (health.status !== 200) throw new Error(`/health answered ${health.status} during the attack`);
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    const result = await attack();
    return { result, slowestHealthMs };
  } finally {
    running = false;
    await watcher;
  }
}
