export * from './domain/iteration.events.js';
export * from './jobs/evaluation.js';
export * from './jobs/training-job.processor.js';
export * from './manifest/dataset-manifest.js';
export * from './model/model-archive.js';
export * from './read-models/iterations/iteration-queries.js';
export * from './read-models/iterations/iteration.view.js';
export * from './training.module.js';
