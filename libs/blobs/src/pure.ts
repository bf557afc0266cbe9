/**
 * The part of blobs that loads no Nest module nor database driver (`@diyml/blobs/pure`): the port and its helpers,
 * and the file-system store (node:fs only).
 */
export * from './blob-store.port.js';
export * from './fs/fs-blob-store.js';
