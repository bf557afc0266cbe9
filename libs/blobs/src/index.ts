export * from './blob-store.port.js';
export * from './blobs.module.js';
export * from './fs/fs-blob-store.js';
// A type only: BlobsModule loads the GridFS adapter (and mongoose) when MONGODB_URI is set.
export type { GridFsBlobStore } from './gridfs/gridfs-blob-store.js';
export * from './postgres/postgres-blob-store.js';
