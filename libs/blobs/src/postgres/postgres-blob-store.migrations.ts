import type { Migration } from '@diyml/core';

export const BLOB_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'blobs: content-addressed by sha256, bytes in bytea chunks',
    // Chunks are stored as they are (no TOAST compression): images and models do not compress.
    sql: `
      CREATE TABLE blobs (
        sha256 text PRIMARY KEY,
        bytes bigint NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE blob_chunks (
        sha256 text NOT NULL REFERENCES blobs ON DELETE CASCADE,
        index integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (sha256, index)
      );
      ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL`,
  },
];
