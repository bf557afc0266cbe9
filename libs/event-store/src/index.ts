export * from './command-handling.js';
export * from './esdb/esdb-event-store.js';
export * from './event-store.port.js';
export * from './postgres/postgres-event-store.js';
export * from './sqlite/sqlite-event-store.js';
export * from './upcasters.js';
export * from './wrong-expected-revision.error.js';
export * from './event-store.module.js';
