import { fileTypeFromBuffer } from 'file-type';
import { Injectable } from '@nestjs/common';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Settings } from '../config/settings.js';
import { DomainError } from '../domain/domain-error.js';
import { mapConcurrently } from '../map-concurrently.js';
import { AddressPolicy } from './address-policy.js';

export interface FetchedImage {
  bytes: Buffer;
  /** The Content-Type the server declared. */
  contentType: string;
  /** Where the bytes came from, after redirects. */
  url: string;
}

export interface UrlFetchLimits {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

/** The most bytes a fetch reads, and the setting that says so (named in the refusal). */
export interface SizeLimit {
  maxBytes: number;
  setting: string;
}

export type FetchOutcome = { image: FetchedImage } | { error: DomainError };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** URLs of one request fetched at the same time. */
const CONCURRENCY = 4;
/** Declared types an image may come with: images, and servers that do not know (the bytes are checked later). */
/** What file-type reads to tell a format (its sample size). */
const SNIFF_BYTES = 4100;

async function isImage(head: Uint8Array): Promise<boolean> {
  return (await fileTypeFromBuffer(head))?.mime.startsWith('image/') ?? false;
}

const ACCEPTED_TYPE = /^(image\/[\w.+-]+|application\/octet-stream|binary\/octet-stream)\s*(;|$)/i;

export const UrlFetchErrors = {
  URL_INVALID: 'URL_INVALID',
  URL_ADDRESS_NOT_ALLOWED: 'URL_ADDRESS_NOT_ALLOWED',
  URL_TOO_MANY_REDIRECTS: 'URL_TOO_MANY_REDIRECTS',
  URL_FETCH_FAILED: 'URL_FETCH_FAILED',
  URL_TIMEOUT: 'URL_TIMEOUT',
  URL_TOO_LARGE: 'URL_TOO_LARGE',
  URL_NOT_AN_IMAGE: 'URL_NOT_AN_IMAGE',
} as const;

function refusedAddress(host: string, address: string): DomainError {
  return DomainError.validation(
    UrlFetchErrors.URL_ADDRESS_NOT_ALLOWED,
    `${host} is ${address === host ? '' : `at ${address}, `}a loopback, private, link-local or reserved address: diyml does not fetch from ` +
      'there unless an administrator names it in URL_FETCH_ALLOWED_ADDRESSES.',
    { host, address },
  );
}

/**
 * Fetches an image from an http(s) URL for a user, with limits on size, time and redirects, and SSRF
 * protection: every address the host resolves to must be permitted by the AddressPolicy, checked on each
 * redirect hop and in the connection's own DNS lookup (the socket connects to the very address checked, so
 * a second DNS answer cannot slip a private address in).
 */
@Injectable()
export class UrlFetcher {
  private readonly policy: AddressPolicy;
  readonly limits: UrlFetchLimits;

  constructor(settings: Settings) {
    this.policy = AddressPolicy.fromSetting(settings.URL_FETCH_ALLOWED_ADDRESSES);
    this.limits = {
      maxBytes: settings.URL_FETCH_MAX_BYTES,
      timeoutMs: settings.URL_FETCH_TIMEOUT_MS,
      maxRedirects: settings.URL_FETCH_MAX_REDIRECTS,
    };
  }

  /** Fetches several URLs, a few at a time; each succeeds or fails on its own, in the order given. */
  fetchEach(urls: readonly string[]): Promise<FetchOutcome[]> {
    return mapConcurrently(
      urls.length,
      async (index): Promise<FetchOutcome> => {
        try {
          return { image: await this.fetch(urls[index]) };
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          return { error };
        }
      },
      CONCURRENCY,
    );
  }

  /**
   * `sizeLimit`: a caller's own, tighter limit (a prediction's PREDICT_MAX_IMAGE_BYTES), applied while reading, so a
   * photo too large for it is not downloaded whole first; the error names its setting.
   */
  async fetch(url: string, sizeLimit?: SizeLimit): Promise<FetchedImage> {
    const limit =
      sizeLimit && sizeLimit.maxBytes < this.limits.maxBytes
        ? sizeLimit
        : { maxBytes: this.limits.maxBytes, setting: 'URL_FETCH_MAX_BYTES' };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.limits.timeoutMs);
    try {
      let current = this.parse(url);
      for (let hop = 0; ; hop += 1) {
        const response = await this.request(current, controller.signal);
        const location = response.headers.location;
        if (REDIRECTS.has(response.statusCode ?? 0) && location) {
          response.resume();
          if (hop >= this.limits.maxRedirects) {
            throw DomainError.unprocessable(
              UrlFetchErrors.URL_TOO_MANY_REDIRECTS,
              `${url} redirects more than ${this.limits.maxRedirects} times.`,
            );
          }
          current = this.parse(new URL(location, current).href);
          continue;
        }
        return await this.read(current, response, limit);
      }
    } catch (error) {
      if (controller.signal.aborted) {
        throw DomainError.unprocessable(
          UrlFetchErrors.URL_TIMEOUT,
          `${url} did not answer within ${this.limits.timeoutMs} ms.`,
        );
      }
      if (error instanceof DomainError) throw error;
      throw DomainError.unprocessable(
        UrlFetchErrors.URL_FETCH_FAILED,
        `${url} could not be fetched: ${(error as Error).message}.`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private parse(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw DomainError.validation(
        UrlFetchErrors.URL_INVALID,
        `"${url.slice(0, 200)}" is not a URL: send an absolute http or https URL.`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw DomainError.validation(
        UrlFetchErrors.URL_INVALID,
        `${parsed.protocol} URLs are not fetched: send an http or https URL.`,
      );
    }
    if (parsed.username || parsed.password) {
      throw DomainError.validation(UrlFetchErrors.URL_INVALID, 'URLs with a user name or password are not fetched.');
    }
    // A literal address is connected to without a DNS lookup, so it is checked here.
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) && !this.policy.permits(host)) throw refusedAddress(host, host);
    return parsed;
  }

  private request(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(url, {
        method: 'GET',
        // No pooled sockets: each connection goes through the checking lookup.
        agent: false,
        lookup: this.checkedLookup,
        signal,
        headers: { accept: 'image/*', 'user-agent': 'diyml' },
      });
      request.on('response', resolve);
      request.on('error', reject);
      request.end();
    });
  }

  /** dns.lookup that fails unless every address of the host is permitted. */
  private readonly checkedLookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((entry) => !this.policy.permits(entry.address));
      if (refused)
        return callback(refusedAddress(hostname, refused.address) as unknown as NodeJS.ErrnoException, '', 0);
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };

  private async read(url: URL, response: IncomingMessage, limit: SizeLimit): Promise<FetchedImage> {
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      response.resume();
      throw DomainError.unprocessable(UrlFetchErrors.URL_FETCH_FAILED, `${url.href} answered HTTP ${status}.`, {
        status,
      });
    }
    const contentType = String(response.headers['content-type'] ?? '');
    // Hosts that send a photo as text/plain, application/binary or no type at all are common: the first bytes decide.
    let sniffed = ACCEPTED_TYPE.test(contentType);
    const notAnImage = () =>
      DomainError.unprocessable(
        UrlFetchErrors.URL_NOT_AN_IMAGE,
        `${url.href} is ${contentType || 'of no declared type'} and its first bytes are not an image's.`,
        { contentType },
      );
    const tooLarge = () =>
      DomainError.validation(
        UrlFetchErrors.URL_TOO_LARGE,
        `${url.href} is larger than ${limit.maxBytes} bytes (${limit.setting}).`,
        { maxBytes: limit.maxBytes },
      );
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit.maxBytes) {
      response.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit.maxBytes) {
        response.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
      if (!sniffed && size >= SNIFF_BYTES) {
        if (!(await isImage(Buffer.concat(chunks)))) {
          response.destroy();
          throw notAnImage();
        }
        sniffed = true;
      }
    }
    const bytes = Buffer.concat(chunks);
    if (!sniffed && !(await isImage(bytes))) throw notAnImage();
    return { bytes, contentType, url: url.href };
  }
}
