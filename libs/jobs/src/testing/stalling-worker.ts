/**
 * A BullMQ worker process that takes one job and hangs on it, announcing the job id on stdout: tests kill it
 * with SIGKILL to play a worker that dies mid-job. Run with tsx: stalling-worker.ts <redisUrl> <prefix> <queue>.
 */
import { BullmqJobWorker, redisConnection } from '../bullmq/bullmq-job-queue.js';

const [redisUrl, prefix, queue] = process.argv.slice(2);
const worker = new BullmqJobWorker(
  {
    queue,
    process: (_payload, context) => {
      process.stdout.write(`took ${context.id}\n`);
      return new Promise<void>(() => {});
    },
    failed: async () => {},
  },
  redisConnection(redisUrl),
  { prefix, lockDurationMs: 1000, stalledIntervalMs: 300 },
);
await worker.waitUntilReady();
process.stdout.write('ready\n');
