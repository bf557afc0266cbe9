import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { postgresTestServer } from '@diyml/core/testing/postgres-test-database.js';
import { blobStoreContract } from '../testing/blob-store.contract.js';
import { BLOB_CHUNK_BYTES, PostgresBlobStore } from './postgres-blob-store.js';

const server = postgresTestServer();

if (server) {
  const database = postgresDatabaseForThisFile(server);

  blobStoreContract('PostgreSQL', async () => PostgresBlobStore.connect(database.url));

  describe('PostgresBlobStore across processes', () => {
    it('lets a second process read a multi-chunk blob the first stored, and both store the same bytes at once', async () => {
      const [first, second] = await Promise.all([
        PostgresBlobStore.connect(database.url),
        PostgresBlobStore.connect(database.url),
      ]);
      const bytes = randomBytes(BLOB_CHUNK_BYTES * 2 + 17);
      const [a, b] = await Promise.all([first.put(bytes), second.put(bytes)]);
      expect(a).toEqual(b);
      expect((await second.get(a.sha256)).equals(bytes)).toBe(true);
      await Promise.all([first.close(), second.close()]);
    });
  });
} else {
  it.skip('BlobStore contract: PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}
