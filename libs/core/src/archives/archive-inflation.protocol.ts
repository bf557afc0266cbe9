import type { ArchiveLimitCode, InflatedArchive, InflationRequest, ZipSource } from './archive-inflation.js';

export interface ToInflationThread {
  zip: ZipSource;
  request: InflationRequest;
}

export type FromInflationThread =
  | { type: 'inflated'; archive: InflatedArchive }
  | { type: 'limit'; code: ArchiveLimitCode; message: string; details: Record<string, unknown> }
  | { type: 'invalid'; message: string }
  | { type: 'failed'; message: string };
