import type { ErrorKind } from '../domain/domain-error.js';
import type { InflatedArchive, InflationRequest, ZipSource } from './archive-inflation.js';

export interface ToInflationThread {
  zip: ZipSource;
  request: InflationRequest;
}

export type FromInflationThread =
  | { type: 'inflated'; archive: InflatedArchive }
  /** A DomainError: a limit passed (413) or not a readable zip (400). */
  | { type: 'refused'; kind: ErrorKind; code: string; message: string; details?: unknown }
  | { type: 'failed'; message: string };
