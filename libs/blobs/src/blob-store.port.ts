import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DomainError } from '@diyml/core/pure';

/** What a stored blob is known by: the sha256 of its bytes (hex) and its size. */
export interface StoredBlob {
  readonly sha256: string;
  readonly bytes: number;
}

/** A stored blob's bytes as they stream, its size known before the first byte. */
export interface BlobReadStream {
  readonly bytes: number;
  readonly stream: Readable;
}

export interface PutStreamOptions {
  /** The address the bytes must have: otherwise nothing is stored and put fails with BLOB_HASH_MISMATCH (400). */
  readonly sha256?: string;
}

/** What putStream reads: a stream, or any async iterable of byte chunks. */
export type BlobSource = Readable | AsyncIterable<Uint8Array>;

export const BLOB_NOT_FOUND = 'BLOB_NOT_FOUND';
export const BLOB_HASH_MISMATCH = 'BLOB_HASH_MISMATCH';

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

/** Refuses bytes that do not hash to the address they were sent for. */
export function checkExpectedSha256(expected: string | undefined, actual: string): void {
  if (expected !== undefined && expected !== actual) {
    throw DomainError.validation(
      BLOB_HASH_MISMATCH,
      `The bytes hash to sha256 ${actual}, not the ${expected} they were sent as: nothing was stored.`,
      { expected, actual },
    );
  }
}

/** Counts and hashes the chunks of a source as they pass, for adapters that store as they read. */
export class HashingCounter {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');

  /** The chunks of `source`, unchanged, hashed and counted on the way. */
  async *pass(source: BlobSource): AsyncGenerator<Buffer> {
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      this.hash.update(buffer);
      this.bytes += buffer.byteLength;
      yield buffer;
    }
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Content-addressed storage for bytes that events only reference by hash (images, models, manifests).
 * Writing the same bytes twice stores them once; a blob is either there whole or not at all.
 * One contract suite (testing/blob-store.contract.ts) checks every adapter.
 */
export abstract class BlobStore {
  /** Stores the bytes (if not stored yet) and returns their address. Durable once it resolves. */
  abstract put(bytes: Uint8Array): Promise<StoredBlob>;

  /**
   * Stores the bytes of `source` as they come (never all in memory: archives, videos, large models) and returns
   * their address; like put, the blob is there whole or not at all. A source that fails stores nothing.
   */
  abstract putStream(source: BlobSource, options?: PutStreamOptions): Promise<StoredBlob>;

  /** The bytes stored under `sha256`; throws BLOB_NOT_FOUND (404) when there are none. */
  abstract get(sha256: string): Promise<Buffer>;

  /**
   * The bytes stored under `sha256` as a stream, read a piece at a time; throws BLOB_NOT_FOUND (404) before
   * streaming when there are none. A blob deleted while it streams makes the stream fail.
   */
  abstract getStream(sha256: string): Promise<BlobReadStream>;

  abstract has(sha256: string): Promise<boolean>;

  /** Removes the blob; removing a missing blob is not an error. */
  abstract delete(sha256: string): Promise<void>;

  abstract close(): Promise<void>;
}
