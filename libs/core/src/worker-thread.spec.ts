import { expect, it } from '@jest/globals';
import { siblingModule, startWorkerThread } from './worker-thread.js';

it('runs a TypeScript module on a worker thread and gets its answer', async () => {
  const worker = startWorkerThread(siblingModule(import.meta.url, 'testing/echo.worker'), {
    workerData: { value: 21 },
  });
  const answer = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  expect(answer).toBe(42);
  await worker.terminate();
});
