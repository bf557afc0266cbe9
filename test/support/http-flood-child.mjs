// Sends a batch of HTTP requests all at once from its own process and reports each answer (status, size, error
// code and message, content encoding, Retry-After): an attack's client work (writing megabytes, receiving downloads) then does not run on
// the event loop of the api under test, whose liveness is what the abuse tests measure.
import { request } from 'node:http';

function send(baseUrl, { method, path, headers = {}, body, from }) {
  const url = new URL(path, baseUrl);
  const outgoingHeaders = { ...headers };
  if (body !== undefined) {
    outgoingHeaders['content-type'] ??= 'application/json';
    outgoingHeaders['content-length'] = body.length;
  }
  return new Promise((resolve) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers: outgoingHeaders,
        localAddress: from,
        agent: false,
      },
      (incoming) => {
        const head = [];
        let bytes = 0;
        incoming.on('data', (chunk) => {
          bytes += chunk.length;
          if (bytes <= 4096) head.push(chunk);
        });
        incoming.on('end', () => {
          let code;
          let message;
          try {
            ({ code, message } = JSON.parse(Buffer.concat(head).toString('utf8')));
          } catch {
            // Not a JSON error body.
          }
          const { 'content-encoding': contentEncoding, 'retry-after': retryAfter } = incoming.headers;
          resolve({ status: incoming.statusCode, bytes, code, message, contentEncoding, retryAfter });
        });
        incoming.on('error', (error) => resolve({ status: 0, bytes, error: error.code ?? error.message }));
      },
    );
    // Node may close the connection after answering rather than read the rest of a body nobody wants.
    outgoing.on('error', (error) => resolve({ status: 0, bytes: 0, error: error.code ?? error.message }));
    outgoing.end(body);
  });
}

// First the attack (its bodies travel before it starts), then 'go'.
process.once('message', ({ baseUrl, bodies, requests }) => {
  const buffers = bodies.map((body) => Buffer.from(body, 'base64'));
  process.once('message', async () => {
    const answers = await Promise.all(
      requests.map((spec) =>
        send(baseUrl, { ...spec, body: spec.body === undefined ? undefined : buffers[spec.body] }),
      ),
    );
    process.send(answers, () => process.disconnect());
  });
  process.send('ready');
});
