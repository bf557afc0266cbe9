/** The part of blobs that loads no Nest module nor database driver (`@diyml/blobs/pure`): the port and its helpers. */
export * from './blob-store.port.js';
