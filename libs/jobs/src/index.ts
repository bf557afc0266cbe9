// Types only: JobsModule loads the BullMQ adapter (and bullmq's ~100 modules) when REDIS_URL is set, not at every start.
export type { BullmqJobQueue, BullmqJobWorker, BullmqJobWorkerOptions } from './bullmq/bullmq-job-queue.js';
export { redisConnection } from './bullmq/redis-connection.js';
export * from './in-process/in-process-job-queue.js';
export * from './job-queue.port.js';
export * from './jobs.module.js';
export * from './job-metadata.js';
export * from './lost-jobs.js';
