import type { ArchiveLimitCode, InflatedArchive, InflationRequest } from './archive-inflation.js';

export interface ToInflationThread {
  zip: Uint8Array;
  request: InflationRequest;
}

export type FromInflationThread =
  | { type: 'inflated'; archive: InflatedArchive }
  | { type: 'limit'; code: ArchiveLimitCode; message: string; details: Record<string, unknown> }
  | { type: 'invalid'; message: string }
  | { type: 'failed'; message: string };
