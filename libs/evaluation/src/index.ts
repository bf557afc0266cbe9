export * from './domain/test-manifest.js';
export * from './domain/test-run.decider.js';
export * from './domain/test-run.events.js';
export * from './evaluation.module.js';
export * from './jobs/test-run-job.processor.js';
export * from './read-models/test-runs/test-run-queries.js';
export * from './read-models/test-runs/test-run.view.js';
