import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * File descriptors kept for what the api opens itself (blobs, the event log, uploads, worker threads, databases): this
 * many, or a quarter of a smaller limit.
 */
export const RESERVED_FILE_DESCRIPTORS = 1024;
/** The total when the process's open-file limit cannot be read (not Linux). */
const FALLBACK_MAX_CONNECTIONS = 4096;
/** A refused client is logged once per this interval, not once per connection. */
const LOG_INTERVAL_MS = 60_000;

export interface ConnectionLimits {
  /** Connections open at once, from everyone. */
  total: number;
  /** Connections open at once from one client address; 0: no limit per address. */
  perClient: number;
}

/**
 * The open-file limit less RESERVED_FILE_DESCRIPTORS (a quarter of a limit under 4,096): 20,000 idle connections from one anonymous client took every
 * descriptor the api had, so for as long as the client held them nobody could connect and the api could open no file.
 */
export function defaultMaxConnections(limitsFile = '/proc/self/limits'): number {
  let limits: string;
  try {
    limits = readFileSync(limitsFile, 'utf8');
  } catch {
    return FALLBACK_MAX_CONNECTIONS;
  }
  const openFiles = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  if (!openFiles || openFiles === 'unlimited') return FALLBACK_MAX_CONNECTIONS;
  const limit = Number(openFiles);
  return limit - Math.min(RESERVED_FILE_DESCRIPTORS, Math.floor(limit / 4));
}

/**
 * Closes a new connection at once when `limits.total` connections are open, or `limits.perClient` from its address:
 * one client opening connections by the thousand is held to its share and the api keeps descriptors for its files.
 * Node's own `maxConnections` counts only what one listening socket accepted; the api listens on several (see
 * listenWithAcceptors) and they all hand their connections to `server`, so this counts at the server.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  const logger = new Logger('Connections');
  let open = 0;
  const byClient = new Map<string, number>();
  const lastLogged = new Map<string, number>();
  const refuse = (socket: Socket, client: string, reason: string) => {
    socket.destroy();
    const now = Date.now();
    if (now - (lastLogged.get(reason + client) ?? 0) < LOG_INTERVAL_MS) return;
    if (lastLogged.size > 1000) lastLogged.clear();
    lastLogged.set(reason + client, now);
    logger.warn(`Refusing new connections from ${client}: ${reason}`);
  };
  server.prependListener('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? 'unknown';
    const ofClient = byClient.get(client) ?? 0;
    if (open >= limits.total) return refuse(socket, client, `${open} connections are open (MAX_CONNECTIONS)`);
    if (limits.perClient > 0 && ofClient >= limits.perClient)
      return refuse(socket, client, `it has ${ofClient} open (MAX_CONNECTIONS_PER_CLIENT)`);
    open += 1;
    byClient.set(client, ofClient + 1);
    socket.once('close', () => {
      open -= 1;
      const left = (byClient.get(client) ?? 1) - 1;
      if (left === 0) byClient.delete(client);
      else byClient.set(client, left);
    });
  });
}
