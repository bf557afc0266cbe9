import { createHash } from 'node:crypto';
import { DomainError } from '@diyml/core/pure';

/** What a stored blob is known by: the sha256 of its bytes (hex) and its size. */
export interface StoredBlob {
  readonly sha256: string;
  readonly bytes: number;
}

export const BLOB_NOT_FOUND = 'BLOB_NOT_FOUND';

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isSha256(value: string): boolean {
  return SHA256_PATTERN.test(value);
}

export function blobNotFound(sha256: string): DomainError {
  return DomainError.notFound(BLOB_NOT_FOUND, `No blob with sha256 ${sha256} is stored.`, { sha256 });
}

/**
 * Content-addressed storage for bytes that events only reference by hash (images, models, manifests).
 * Writing the same bytes twice stores them once; a blob is either there whole or not at all.
 * One contract suite (testing/blob-store.contract.ts) checks every adapter.
 */
export abstract class BlobStore {
  /** Stores the bytes (if not stored yet) and returns their address. Durable once it resolves. */
  abstract put(bytes: Uint8Array): Promise<StoredBlob>;

  /** The bytes stored under `sha256`; throws BLOB_NOT_FOUND (404) when there are none. */
  abstract get(sha256: string): Promise<Buffer>;

  abstract has(sha256: string): Promise<boolean>;

  /** Removes the blob; removing a missing blob is not an error. */
  abstract delete(sha256: string): Promise<void>;

  abstract close(): Promise<void>;
}
