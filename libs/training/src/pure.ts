/**
 * The part of training that loads no Nest module (`@diyml/training/pure`): model archives, for the worker
 * threads of evaluation and deployments, which would otherwise load the whole training context, and the metrics
 * of stored evaluations, for Custom Vision's performance.
 */
export * from './model/model-archive.js';
export { EmbeddingThreadPool } from './worker/embedding-thread.js';
export * from './domain/iteration.events.js';
export { EMBEDDING_CACHE_EVENT_TYPES } from './domain/embedding-cache.events.js';
export * from './jobs/evaluation.js';
export * from './jobs/metrics-with-ap.js';
