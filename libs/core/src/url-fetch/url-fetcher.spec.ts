import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateSettings } from '../config/settings.js';
import { DomainError } from '../domain/domain-error.js';
import { UrlFetcher } from './url-fetcher.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected the fetch to fail');
}

describe('UrlFetcher', () => {
  let server: Server;
  let base: string;
  let port: number;
  const fetcher = (settings: Record<string, unknown> = {}) =>
    new UrlFetcher(
      validateSettings({ URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1', URL_FETCH_TIMEOUT_MS: 1000, ...settings }),
    );

  beforeAll(async () => {
    server = createServer((request, response) => {
      const path = request.url ?? '/';
      if (path === '/image.png') return response.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      if (path === '/big.png') return response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(5000));
      if (path === '/chunked.png') {
        response.writeHead(200, { 'content-type': 'image/png' });
        for (let index = 0; index < 10; index += 1) response.write(Buffer.alloc(1000));
        return response.end();
      }
      if (path === '/page.html') return response.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      if (path === '/photo-as-text') return response.writeHead(200, { 'content-type': 'text/plain' }).end(PNG);
      if (path === '/untyped') return response.writeHead(200).end(PNG);
      if (path === '/long-page')
        return response
          .writeHead(200, { 'content-type': 'text/html' })
          .end(`<html>${'<p>text</p>'.repeat(2000)}</html>`);
      if (path === '/missing') return response.writeHead(404).end();
      if (path === '/slow')
        return setTimeout(() => response.writeHead(200, { 'content-type': 'image/png' }).end(PNG), 3000).unref();
      if (path === '/to-image') return response.writeHead(302, { location: '/image.png' }).end();
      if (path === '/loop') return response.writeHead(302, { location: '/loop' }).end();
      if (path === '/to-other-loopback')
        return response.writeHead(302, { location: `http://127.0.0.2:${port}/image.png` }).end();
      if (path === '/to-metadata')
        return response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches an image from an allowed address, following a redirect', async () => {
    const fetched = await fetcher().fetch(`${base}/to-image`);
    expect(fetched).toEqual({ bytes: PNG, contentType: 'image/png', url: `${base}/image.png` });
  });

  it('fetches by host name when every address the name resolves to is allowed', async () => {
    const fetched = await fetcher({ URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.0/8,::1' }).fetch(
      `http://localhost:${port}/image.png`,
    );
    expect(fetched.bytes).toEqual(PNG);
  });

  it('refuses loopback without the allow-list: by literal address, by host name and in IPv6', async () => {
    const strict = fetcher({ URL_FETCH_ALLOWED_ADDRESSES: '' });
    expect((await failure(strict.fetch(`${base}/image.png`))).code).toBe('URL_ADDRESS_NOT_ALLOWED');
    const byName = await failure(strict.fetch(`http://localhost:${port}/image.png`));
    expect([byName.code, byName.message]).toEqual([
      'URL_ADDRESS_NOT_ALLOWED',
      expect.stringContaining('URL_FETCH_ALLOWED_ADDRESSES'),
    ]);
    expect((await failure(strict.fetch(`http://[::1]:${port}/image.png`))).code).toBe('URL_ADDRESS_NOT_ALLOWED');
    expect((await failure(strict.fetch(`http://[::ffff:127.0.0.1]:${port}/image.png`))).code).toBe(
      'URL_ADDRESS_NOT_ALLOWED',
    );
  });

  it('checks every redirect hop: a redirect to an address the allow-list does not name is refused', async () => {
    expect((await failure(fetcher().fetch(`${base}/to-other-loopback`))).code).toBe('URL_ADDRESS_NOT_ALLOWED');
    expect((await failure(fetcher().fetch(`${base}/to-metadata`))).details).toEqual({
      host: '169.254.169.254',
      address: '169.254.169.254',
    });
  });

  it('stops after the redirect limit', async () => {
    expect((await failure(fetcher({ URL_FETCH_MAX_REDIRECTS: 2 }).fetch(`${base}/loop`))).code).toBe(
      'URL_TOO_MANY_REDIRECTS',
    );
  });

  it('refuses bodies over the size limit, declared or streamed', async () => {
    const small = fetcher({ URL_FETCH_MAX_BYTES: 4096 });
    expect((await failure(small.fetch(`${base}/big.png`))).code).toBe('URL_TOO_LARGE');
    expect((await failure(small.fetch(`${base}/chunked.png`))).code).toBe('URL_TOO_LARGE');
    // A caller's tighter limit (a prediction's) stops the read, named; a looser one leaves the fetcher's.
    const tighter = await failure(
      fetcher().fetch(`${base}/chunked.png`, { maxBytes: 4096, setting: 'PREDICT_MAX_IMAGE_BYTES' }),
    );
    expect([tighter.code, tighter.message, tighter.details]).toEqual([
      'URL_TOO_LARGE',
      `${base}/chunked.png is larger than 4096 bytes (PREDICT_MAX_IMAGE_BYTES).`,
      { maxBytes: 4096 },
    ]);
    const looser = await failure(
      small.fetch(`${base}/chunked.png`, { maxBytes: 1_000_000, setting: 'PREDICT_MAX_IMAGE_BYTES' }),
    );
    expect(looser.message).toContain('(URL_FETCH_MAX_BYTES)');
  });

  it('gives up after the time limit', async () => {
    const started = Date.now();
    expect((await failure(fetcher({ URL_FETCH_TIMEOUT_MS: 300 }).fetch(`${base}/slow`))).code).toBe('URL_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('takes a photo its host sends as text or with no type, as its first bytes say what it is', async () => {
    expect((await fetcher().fetch(`${base}/photo-as-text`)).bytes).toEqual(PNG);
    expect((await fetcher().fetch(`${base}/untyped`)).bytes).toEqual(PNG);
  });

  it('refuses what is not an image, error statuses, other schemes and credentials in the URL', async () => {
    const page = await failure(fetcher().fetch(`${base}/page.html`));
    expect([page.code, page.message]).toEqual([
      'URL_NOT_AN_IMAGE',
      `${base}/page.html is text/html and its first bytes are not an image's.`,
    ]);
    expect((await failure(fetcher().fetch(`${base}/long-page`))).code).toBe('URL_NOT_AN_IMAGE');
    expect((await failure(fetcher().fetch(`${base}/missing`))).details).toEqual({ status: 404 });
    expect((await failure(fetcher().fetch('file:///etc/passwd'))).code).toBe('URL_INVALID');
    expect((await failure(fetcher().fetch('not a url'))).code).toBe('URL_INVALID');
    expect((await failure(fetcher().fetch(`http://user:secret@127.0.0.1:${port}/image.png`))).code).toBe('URL_INVALID');
  });
});
