import type pg from 'pg';
import { createPostgresPool, inTransaction, migrate } from '@diyml/core';
import { BlobStore, blobNotFound, isSha256, sha256Of, type StoredBlob } from '../blob-store.port.js';
import { BLOB_STORE_MIGRATIONS } from './postgres-blob-store.migrations.js';

/** Bytes per row of blob_chunks: large blobs go to the server in pieces, none bigger than this. */
export const BLOB_CHUNK_BYTES = 256 * 1024;

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
