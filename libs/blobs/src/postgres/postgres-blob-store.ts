import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createPostgresPool, inTransaction, migrate } from '@diyml/core';
import {
  BlobStore,
  blobNotFound,
  type BlobReadStream,
  type BlobSource,
  checkExpectedSha256,
  HashingCounter,
  isSha256,
  type PutStreamOptions,
  sha256Of,
  type StoredBlob,
} from '../blob-store.port.js';
import { BLOB_STORE_MIGRATIONS } from './postgres-blob-store.migrations.js';

/** Bytes per row of blob_chunks: large blobs go to the server in pieces, none bigger than this. */
export const BLOB_CHUNK_BYTES = 256 * 1024;
/** Chunks a streamed read asks for at a time (4 MiB). */
const CHUNKS_PER_READ = 16;

/**
 * Blobs in PostgreSQL: a row per blob (sha256, size) and its bytes in chunks, written in one transaction, so a
 * blob is there whole or not at all. Two processes storing the same bytes at once: the second waits on the
 * primary key, then finds the blob stored.
 */
export class PostgresBlobStore extends BlobStore {
  private constructor(private readonly pool: pg.Pool) {
    super();
  }

  /** Connects and migrates the schema. */
  static async connect(
    url: string,
    options: { poolSize?: number; synchronousCommit?: boolean } = {},
  ): Promise<PostgresBlobStore> {
    const pool = createPostgresPool(url, {
      max: options.poolSize ?? 4,
      applicationName: 'diyml-blobs',
      synchronousCommit: options.synchronousCommit,
    });
    try {
      await migrate(pool, 'blobs', BLOB_STORE_MIGRATIONS);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresBlobStore(pool);
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Of(bytes);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buffer.length <= BLOB_CHUNK_BYTES) {
      // The usual image: row and chunk in one statement. Bytes already stored make the insert a no-op.
      await this.pool.query(
        `WITH created AS (
           INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING RETURNING sha256
         )
         INSERT INTO blob_chunks (sha256, index, data) SELECT sha256, 0, $3 FROM created WHERE $2 > 0`,
        [sha256, buffer.length, buffer],
      );
    } else if (!(await this.has(sha256))) {
      await inTransaction(this.pool, async (client) => {
        const created = await client.query(
          'INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING',
          [sha256, buffer.length],
        );
        if (created.rowCount === 0) return;
        for (let index = 0; index * BLOB_CHUNK_BYTES < buffer.length; index += 1) {
          await client.query('INSERT INTO blob_chunks (sha256, index, data) VALUES ($1, $2, $3)', [
            sha256,
            index,
            buffer.subarray(index * BLOB_CHUNK_BYTES, (index + 1) * BLOB_CHUNK_BYTES),
          ]);
        }
      });
    }
    return { sha256, bytes: buffer.length };
  }

  /**
   * In one transaction: the chunks go under a staging row as they are hashed, then move to the blob's address
   * (or are dropped with the staging row when those bytes were stored already). Nothing is visible before the commit.
   */
  async putStream(source: BlobSource, options: PutStreamOptions = {}): Promise<StoredBlob> {
    const counter = new HashingCounter();
    return inTransaction(this.pool, async (client) => {
      const staging = `staging-${randomUUID()}`;
      await client.query('INSERT INTO blobs (sha256, bytes) VALUES ($1, 0)', [staging]);
      let index = 0;
      const insert = (data: Buffer) =>
        client.query('INSERT INTO blob_chunks (sha256, index, data) VALUES ($1, $2, $3)', [staging, index++, data]);
      let pieces: Buffer[] = [];
      let held = 0;
      for await (const chunk of counter.pass(source)) {
        pieces.push(chunk);
        held += chunk.byteLength;
        if (held < BLOB_CHUNK_BYTES) continue;
        const joined = Buffer.concat(pieces);
        let offset = 0;
        for (; joined.byteLength - offset >= BLOB_CHUNK_BYTES; offset += BLOB_CHUNK_BYTES)
          await insert(joined.subarray(offset, offset + BLOB_CHUNK_BYTES));
        pieces = offset < joined.byteLength ? [joined.subarray(offset)] : [];
        held = joined.byteLength - offset;
      }
      if (held > 0) await insert(Buffer.concat(pieces));
      const sha256 = counter.digest();
      checkExpectedSha256(options.sha256, sha256);
      const created = await client.query(
        'INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING',
        [sha256, counter.bytes],
      );
      if (created.rowCount === 1)
        await client.query('UPDATE blob_chunks SET sha256 = $1 WHERE sha256 = $2', [sha256, staging]);
      await client.query('DELETE FROM blobs WHERE sha256 = $1', [staging]);
      return { sha256, bytes: counter.bytes };
    });
  }

  async getStream(sha256: string): Promise<BlobReadStream> {
    if (!isSha256(sha256)) throw blobNotFound(sha256);
    const { rows } = await this.pool.query<{ bytes: string }>('SELECT bytes FROM blobs WHERE sha256 = $1', [sha256]);
    if (rows.length === 0) throw blobNotFound(sha256);
    const bytes = Number(rows[0].bytes);
    const pool = this.pool;
    async function* chunks(): AsyncGenerator<Buffer> {
      let read = 0;
      for (let index = 0; read < bytes;) {
        const page = await pool.query<{ data: Buffer }>(
          'SELECT data FROM blob_chunks WHERE sha256 = $1 AND index >= $2 ORDER BY index LIMIT $3',
          [sha256, index, CHUNKS_PER_READ],
        );
        if (page.rows.length === 0) throw new Error(`Blob ${sha256} was deleted while it was read`);
        for (const { data } of page.rows) {
          read += data.byteLength;
          index += 1;
          yield data;
        }
      }
      if (read !== bytes) throw new Error(`Blob ${sha256} is stored with ${read} of its ${bytes} bytes`);
    }
    return { bytes, stream: Readable.from(chunks(), { objectMode: false }) };
  }

  async get(sha256: string): Promise<Buffer> {
    if (!isSha256(sha256)) throw blobNotFound(sha256);
    // One statement reads the blob and its chunks from one snapshot: a delete meanwhile means "not found".
    const { rows } = await this.pool.query<{ bytes: string; data: Buffer | null }>(
      `SELECT b.bytes, c.data FROM blobs b LEFT JOIN blob_chunks c USING (sha256)
       WHERE b.sha256 = $1 ORDER BY c.index`,
      [sha256],
    );
    if (rows.length === 0) throw blobNotFound(sha256);
    const content = Buffer.concat(rows.flatMap((row) => (row.data ? [row.data] : [])));
    if (content.length !== Number(rows[0].bytes)) {
      throw new Error(`Blob ${sha256} is stored with ${content.length} of its ${rows[0].bytes} bytes`);
    }
    return content;
  }

  async has(sha256: string): Promise<boolean> {
    if (!isSha256(sha256)) return false;
    const { rowCount } = await this.pool.query('SELECT 1 FROM blobs WHERE sha256 = $1', [sha256]);
    return rowCount === 1;
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256(sha256)) return;
    await this.pool.query('DELETE FROM blobs WHERE sha256 = $1', [sha256]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
