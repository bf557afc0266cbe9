export * from './bullmq/bullmq-job-queue.js';
export * from './in-process/in-process-job-queue.js';
export * from './job-queue.port.js';
export * from './jobs.module.js';
export * from './job-metadata.js';
