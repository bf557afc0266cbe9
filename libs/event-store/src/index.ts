export * from './command-handling.js';
export * from './command-pipeline.js';
export * from './recorded.js';
// A type only: EventStoreModule loads the EventStoreDB adapter (and its gRPC client) when its connection string is set.
export type { EsdbEventStore } from './esdb/esdb-event-store.js';
export * from './event-ids.js';
export * from './event-store.port.js';
export * from './postgres/postgres-event-store.js';
export * from './sqlite/sqlite-event-store.js';
export * from './upcasters.js';
export * from './wrong-expected-revision.error.js';
export * from './event-store.module.js';
