export * from './blob-store.port.js';
export * from './blobs.module.js';
export * from './fs/fs-blob-store.js';
export * from './gridfs/gridfs-blob-store.js';
export * from './postgres/postgres-blob-store.js';
