export * from './cursor.js';
export * from './memory/in-memory-read-store.js';
export * from './mongo/mongo-read-store.js';
export * from './projection-runner.js';
export * from './projection.js';
export * from './read-store.port.js';
export * from './read-store.module.js';
export * from './replay.js';
