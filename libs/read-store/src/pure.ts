/**
 * The part of read-store that loads neither Nest's core nor a database driver (`@diyml/read-store/pure`): the
 * port, the in-memory store and what projections are made of, for projections and their unit specs.
 */
export * from './cursor.js';
export * from './memory/in-memory-read-store.js';
export * from './projection.js';
export * from './read-store.port.js';
