export * from './cursor.js';
export * from './memory/in-memory-read-store.js';
// A type only: ReadStoreModule loads the MongoDB adapter (and mongoose) when MONGODB_URI is set.
export type { MongoReadStore } from './mongo/mongo-read-store.js';
export * from './postgres/postgres-read-store.js';
export * from './projection-runner.js';
export * from './projection.js';
export * from './read-store.port.js';
export * from './read-store.module.js';
export * from './replay.js';
export * from './reactors/index.js';
