import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Request } from 'express';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The kinds of file served from a directory (HTML pages are left to the routes that build them). */
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

interface Variants {
  identity: Buffer;
  br: Buffer;
  gzip: Buffer;
  etag: string;
}

/**
 * Compresses a body that never changes while the process runs once, off the event loop (zlib's thread pool),
 * with the best settings: compressing it again per request (the compression middleware's way) cost the api
 * up to 76 ms of CPU for each anonymous GET of Swagger UI's 1.5 MB script, enough for a few hundred parallel
 * requests to hold every other caller for seconds.
 */
async function compressOnce(identity: Buffer): Promise<Variants> {
  const [br, gz] = await Promise.all([
    brotli(identity, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length },
    }),
    gzipAsync(identity, { level: 9 }),
  ]);
  return {
    identity,
    br,
    gzip: gz,
    etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`,
  };
}

function sendVariant(
  request: IncomingMessage,
  response: ServerResponse,
  variants: Variants,
  type: string,
  cacheControl: string,
): void {
  // Answered while the file was first compressed (408 to a body that stopped arriving): setting headers now throws.
  if (response.headersSent) return;
  const encoding = (request as Request).acceptsEncodings('br', 'gzip', 'identity') || 'identity';
  const body = encoding === 'br' ? variants.br : encoding === 'gzip' ? variants.gzip : variants.identity;
  response.setHeader('Content-Type', type);
  response.setHeader('Cache-Control', cacheControl);
  response.setHeader('ETag', variants.etag);
  response.setHeader('Vary', 'Accept-Encoding');
  if (request.headers['if-none-match'] === variants.etag) {
    response.statusCode = 304;
    response.end();
    return;
  }
  if (encoding !== 'identity') response.setHeader('Content-Encoding', encoding);
  response.setHeader('Content-Length', body.length);
  response.end(request.method === 'HEAD' ? undefined : body);
}

type Handler = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

/** A GET handler answering a fixed body (an OpenAPI document, say), compressed once. */
export function fixedBodyHandler(body: string | Buffer, type: string, cacheControl = 'no-cache'): Handler {
  let variants: Promise<Variants> | undefined;
  return (request, response, next) => {
    variants ??= compressOnce(Buffer.from(body));
    variants.then((ready) => sendVariant(request, response, ready, type, cacheControl), next);
  };
}

/**
 * Serves the files of a directory whose content does not change while the process runs (a build output,
 * a package's assets) compressed once each; anything else (unknown extensions, missing files, paths leaving
 * the directory) goes to `next`, so a static handler behind it answers as before. The cache holds at most
 * `maxCachedBytes` of file content, then later files are left to `next`.
 */
export function precompressedFiles(
  directory: string,
  options: { cacheControl: string; maxCachedBytes?: number },
): Handler {
  const root = resolve(directory);
  const cache = new Map<string, Promise<Variants | null>>();
  let cachedBytes = 0;
  const maxCachedBytes = options.maxCachedBytes ?? 64 * 1024 * 1024;

  async function load(file: string): Promise<Variants | null> {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile() || cachedBytes + info.size > maxCachedBytes) return null;
    cachedBytes += info.size;
    return compressOnce(await readFile(file));
  }

  return (request, response, next) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    } catch {
      return next();
    }
    const file = resolve(root, `.${path}`);
    const type = TYPES[extname(file)];
    if (!type || !file.startsWith(root + sep) || path.includes('\0')) return next();
    let entry = cache.get(file);
    if (!entry) {
      entry = load(file);
      cache.set(file, entry);
    }
    entry.then((variants) => {
      if (variants) return sendVariant(request, response, variants, type, options.cacheControl);
      // Not kept: requests for made-up names must not grow the cache.
      cache.delete(file);
      next();
    }, next);
  };
}
