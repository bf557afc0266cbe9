export * from './advisory-locks.js';
export * from './postgres-migrations.js';
export * from './postgres-pool.js';
