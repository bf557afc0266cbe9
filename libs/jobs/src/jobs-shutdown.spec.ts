import { describe, expect, it } from 'vitest';
import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PlatformModule } from '@diyml/core';
import { type JobProcessor, JobProcessorProvider, JobQueue } from './job-queue.port.js';
import { JobsModule } from './jobs.module.js';

const steps: string[] = [];
let started: () => void = () => {};
const jobStarted = new Promise<void>((resolve) => (started = resolve));

/** A job that takes a while and records when it is done, as training records its outcome in the log. */
@JobProcessorProvider()
@Injectable()
class SlowProcessor implements JobProcessor {
  readonly queue = 'slow';
  async process(): Promise<void> {
    started();
    await new Promise((resolve) => setTimeout(resolve, 300));
    steps.push('job recorded its outcome');
  }
  async failed(): Promise<void> {}
}

/** A store closed at shutdown, global and imported after the jobs, as BlobsModule is in the api. */
@Global()
@Module({})
class StoreModule implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    steps.push('store closed');
  }
}

describe('JobsModule at shutdown', () => {
  it('lets a running job finish before the stores close', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [PlatformModule, JobsModule.forRoot('api'), StoreModule],
      providers: [SlowProcessor],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.get(JobQueue).enqueue({ queue: 'slow', id: 'job-1', payload: { v: 1 } });
    await jobStarted;
    await app.close();
    expect(steps).toEqual(['job recorded its outcome', 'store closed']);
  });
});
