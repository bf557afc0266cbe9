import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { hostname } from 'node:os';
import { READ_ONLY_PROCESS, Settings } from '@diyml/core';
import type { BullmqJobWorker } from './bullmq/bullmq-job-queue.js';
import { redisConnection } from './bullmq/redis-connection.js';
import { InProcessJobQueue } from './in-process/in-process-job-queue.js';
import { DEFAULT_JOB_ATTEMPTS, type JobProcessor, JobProcessorProvider, JobQueue } from './job-queue.port.js';

function discoverProcessors(discovery: DiscoveryService): JobProcessor[] {
  return discovery
    .getProviders({ metadataKey: JobProcessorProvider.KEY })
    .map((wrapper) => wrapper.instance as JobProcessor)
    .filter(Boolean);
}

/** Which process this is: with Redis, only workers take jobs, so the api never trains. */
export type ProcessRole = 'api' | 'worker';
const PROCESS_ROLE = Symbol('PROCESS_ROLE');

/**
 * Runs this process's @JobProcessorProvider()s: in the embedded mode on the in-process queue; with Redis
 * on BullMQ workers, in worker processes only.
 */
@Injectable()
export class JobRunner implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(JobRunner.name);
  private readonly workers: BullmqJobWorker[] = [];

  constructor(
    @Inject(PROCESS_ROLE) private readonly role: ProcessRole,
    private readonly discovery: DiscoveryService,
    private readonly queue: JobQueue,
    private readonly settings: Settings,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A read-only process (replay --verify) runs no job: jobs append events.
    if (this.readOnly) return;
    const processors = discoverProcessors(this.discovery);
    if (this.queue instanceof InProcessJobQueue) {
      for (const processor of processors) this.queue.register(processor);
      return;
    }
    if (this.role !== 'worker' || !this.settings.REDIS_URL) return;
    const bullmq = await import('./bullmq/bullmq-job-queue.js');
    for (const processor of processors) {
      const worker = new bullmq.BullmqJobWorker(processor, redisConnection(this.settings.REDIS_URL), {
        prefix: this.settings.QUEUE_PREFIX,
        name: `${hostname()}:${process.pid}`,
        lockDurationMs: this.settings.JOB_LOCK_DURATION_MS,
        stalledIntervalMs: this.settings.JOB_LOCK_DURATION_MS / 2,
        // Jobs still running near the deadline are handed back rather than left locked until their lock expires.
        ...bullmq.shutdownBudget(this.settings.SHUTDOWN_TIMEOUT_SECONDS * 1000),
      });
      await worker.waitUntilReady();
      this.workers.push(worker);
      this.logger.log(`Processing the "${processor.queue}" queue`);
    }
  }

  /**
   * The first step of shutting down, before the HTTP server and the stores close (Nest closes global modules'
   * stores in no order we control): take no new job and let the running ones finish and record their outcome, or,
   * near SHUTDOWN_TIMEOUT_SECONDS, hand them back to the queue for another worker.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    if (this.queue instanceof InProcessJobQueue) await this.queue.close();
  }

  /** Then the queue's connections. */
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

const jobQueueProvider = {
  provide: JobQueue,
  inject: [Settings],
  useFactory: async (settings: Settings): Promise<JobQueue> => {
    const logger = new Logger('JobQueue');
    if (settings.REDIS_URL) {
      logger.log('Using BullMQ on Redis; jobs run in apps/worker');
      // Loaded here, not at import: the embedded mode never needs bullmq.
      const { BullmqJobQueue, shutdownBudget } = await import('./bullmq/bullmq-job-queue.js');
      const { closeGraceMs } = shutdownBudget(settings.SHUTDOWN_TIMEOUT_SECONDS * 1000);
      return new BullmqJobQueue(
        redisConnection(settings.REDIS_URL),
        settings.QUEUE_PREFIX,
        DEFAULT_JOB_ATTEMPTS,
        closeGraceMs,
      );
    }
    logger.log('Using the in-process job runner');
    return new InProcessJobQueue();
  },
};

/** Binds the JobQueue port: BullMQ when REDIS_URL is set, else the in-process runner. */
@Global()
@Module({})
export class JobsModule {
  static forRoot(role: ProcessRole): DynamicModule {
    return {
      module: JobsModule,
      imports: [DiscoveryModule],
      providers: [{ provide: PROCESS_ROLE, useValue: role }, jobQueueProvider, JobRunner],
      exports: [JobQueue],
    };
  }
}
