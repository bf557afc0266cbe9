import { describe, expect, it } from 'vitest';
import type mongoose from 'mongoose';
import { Readable } from 'node:stream';
import { sha256Of } from '../blob-store.port.js';
import { GridFsBlobStore } from './gridfs-blob-store.js';

type Bucket = InstanceType<typeof mongoose.mongo.GridFSBucket>;

/**
 * Plays GridFS as its driver documents it: a download stream reads the chunks one by one after the file was
 * found, and fails ("ChunkIsMissing") when the file is deleted meanwhile.
 */
function bucketDeletingDuringRead(bytes: Buffer): Bucket {
  const sha256 = sha256Of(bytes);
  let files = [{ _id: 'file-1', filename: sha256 }];
  return {
    find: (filter: { filename: string }) => ({
      limit: () => ({ toArray: async () => files.filter((file) => file.filename === filter.filename) }),
    }),
    openDownloadStream: () =>
      Readable.from(
        (async function* () {
          yield bytes.subarray(0, 4);
          files = []; // another process deletes the blob now
          throw Object.assign(new Error('ChunkIsMissing: Got unexpected n: 1, expected: 1'), {
            name: 'MongoGridFSChunkError',
          });
        })(),
      ),
  } as unknown as Bucket;
}

describe('GridFsBlobStore', () => {
  it('answers BLOB_NOT_FOUND (404) for a blob deleted while it is read', async () => {
    const bytes = Buffer.from('a blob deleted mid-read');
    const store = GridFsBlobStore.on(bucketDeletingDuringRead(bytes));
    await expect(store.get(sha256Of(bytes))).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND', kind: 'not-found' });
  });
});
