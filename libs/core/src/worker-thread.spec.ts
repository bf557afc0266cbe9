import { expect, it } from 'vitest';
import { once } from 'node:events';
import { siblingModule, startWorkerThread, WorkerThreadPool } from './worker-thread.js';

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

it('closes a pooled thread left idle for idleTimeoutMs, and starts a new one for the next run', async () => {
  const pool = new WorkerThreadPool(
    () => startWorkerThread(siblingModule(import.meta.url, 'testing/echo.worker'), { workerData: { value: 1 } }),
    { idleTimeoutMs: 50 },
  );
  const first = pool.acquire();
  await once(first, 'message');
  pool.release(first, true);
  await once(first, 'exit');

  const second = pool.acquire();
  expect(second).not.toBe(first);
  expect(pool.started).toBe(2);
  await second.terminate();
});
