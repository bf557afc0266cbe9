import { describe, expect, it } from 'vitest';
import { jobQueueContract } from '../testing/job-queue.contract.js';
import { InProcessJobQueue } from './in-process-job-queue.js';

jobQueueContract('in-process', async () => {
  const queue = new InProcessJobQueue();
  return {
    queue,
    startProcessing: async (processor) => queue.register(processor),
    watcherCount: () => queue.watcherCount(),
    close: () => queue.close(),
  };
});

describe('in-process job progress', () => {
  it('forgets a job’s progress once it ends, even a report sent after the end', async () => {
    const queue = new InProcessJobQueue();
    let lateReport: (() => Promise<void>) | null = null;
    queue.register({
      queue: 'reporting',
      async process(_payload, context) {
        await context.reportProgress({ batch: 1 });
        lateReport = () => context.reportProgress({ batch: 2 });
      },
      async failed() {},
    });
    await queue.enqueue({ queue: 'reporting', id: 'job-1', payload: { v: 1 } });
    await queue.drain();
    expect(lateReport).not.toBeNull();
    await lateReport!();
    expect(await queue.progressOf('reporting', 'job-1')).toBeNull();
    await queue.close();
  });
});
