import { jobQueueContract } from '../testing/job-queue.contract.js';
import { InProcessJobQueue } from './in-process-job-queue.js';

jobQueueContract('in-process', async () => {
  const queue = new InProcessJobQueue();
  return {
    queue,
    startProcessing: async (processor) => queue.register(processor),
    close: () => queue.close(),
  };
});
