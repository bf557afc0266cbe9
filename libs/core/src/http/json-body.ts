import type { IncomingMessage } from 'node:http';
import { TextDecoder } from 'node:util';
import type { Settings } from '../config/settings.js';
import { DomainError } from '../domain/domain-error.js';
import { isJsonToRead } from './json-body-after-check.js';
import { assertJsonShape } from './json-shape.js';

function decode(body: Buffer, charset: string): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    throw new DomainError(
      'unsupported-media-type',
      'UNSUPPORTED_CHARSET',
      `The charset "${charset.slice(0, 40)}" is not supported: send UTF-8 JSON.`,
    );
  }
  return decoder.decode(body);
}

/** body-parser's `json()` options: a size limit, and the shape check run on the raw text before JSON.parse. */
export interface JsonBodyOptions {
  limit: number;
  type(request: IncomingMessage): boolean;
  verify(request: IncomingMessage, response: unknown, body: Buffer, encoding: string): void;
}

/**
 * JSON body parsing with limits, before anything parses or validates the body: size (413 PAYLOAD_TOO_LARGE),
 * nesting depth (400 JSON_TOO_DEEP) and key count (400 JSON_TOO_MANY_KEYS). `limit` is JSON_MAX_BYTES, or
 * JSON_IMAGES_MAX_BYTES for the few routes whose bodies carry base64 images.
 */
export function jsonBodyOptions(settings: Settings, limit: number = settings.JSON_MAX_BYTES): JsonBodyOptions {
  const shape = {
    maxDepth: settings.JSON_MAX_DEPTH,
    maxKeys: settings.JSON_MAX_KEYS,
    maxKeysPerObject: settings.JSON_MAX_KEYS_PER_OBJECT,
  };
  return {
    limit,
    type: isJsonToRead,
    verify: (_request, _response, body, encoding) => assertJsonShape(decode(body, encoding), shape),
  };
}
