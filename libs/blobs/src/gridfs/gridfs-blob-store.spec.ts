import { it } from 'vitest';
import { blobStoreContract } from '../testing/blob-store.contract.js';
import { GridFsBlobStore } from './gridfs-blob-store.js';

const uri = process.env.MONGODB_URI;

if (uri) {
  blobStoreContract('GridFS', async () => GridFsBlobStore.connect(uri));
} else {
  it.skip('BlobStore contract: GridFS (skipped: set MONGODB_URI to run it)', () => {});
}
