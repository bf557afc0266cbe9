import { Redis } from 'ioredis';
import type { StartupDependency } from './startup-connect.js';

/** Refusals of the credentials in REDIS_URL: waiting does not change them. */
const AUTH_REFUSED = /^(WRONGPASS|NOAUTH|ERR AUTH|ERR invalid password|NOPERM)/;

/** Redis at REDIS_URL answers a PING. */
export function redisStartupDependency(url: string): StartupDependency {
  return {
    setting: 'REDIS_URL',
    url,
    async connect(timeoutMs) {
      // One try, no reconnection: connectAtStartup decides whether to try again.
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      // Without reconnection, connect() rejects with "Connection is closed": the error event says why.
      let cause: Error | undefined;
      client.on('error', (error: Error) => (cause ??= error));
      try {
        await client.connect();
        await client.ping();
      } catch (error) {
        throw cause ?? error;
      } finally {
        client.disconnect();
      }
    },
    isPermanent: (error) => error instanceof Error && AUTH_REFUSED.test(error.message),
  };
}
