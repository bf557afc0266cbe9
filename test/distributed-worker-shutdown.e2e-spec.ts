import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import {
  type BuiltProcess,
  builtOnPostgresAndRedis,
  createTestDatabase,
  startBuiltWorker,
} from './support/built-processes.js';
import { TcpProxy } from '@diyml/core/testing/tcp-proxy.js';

const { postgresServer, skipped } = await builtOnPostgresAndRedis();

/**
 * A built worker told to stop while Redis is away (a TCP proxy between them refuses connections): its BullMQ clients
 * wait to reconnect, which BullMQ's close used to wait on forever, so only SHUTDOWN_TIMEOUT_SECONDS ended it.
 */
(skipped ? describe.skip : describe)(`a worker stopped while Redis is away${skipped}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'diyml-worker-shutdown-'));
  let database: { url: string; drop(): Promise<void> };
  let redisProxy: TcpProxy;
  let worker: BuiltProcess;

  beforeAll(async () => {
    database = await createTestDatabase(postgresServer!);
    redisProxy = await TcpProxy.start(TEST_REDIS_URL);
    worker = await startBuiltWorker({
      DATA_DIR: dataDir,
      POSTGRES_URL: database.url,
      REDIS_URL: redisProxy.through(TEST_REDIS_URL),
      QUEUE_PREFIX: `diyml-worker-shutdown-${randomUUID()}`,
      JWT_SECRET: randomBytes(32).toString('hex'),
    });
  }, 300_000);

  afterAll(async () => {
    await worker?.stop();
    await redisProxy?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('closes its connections and exits on SIGTERM, not at the shutdown deadline', async () => {
    await redisProxy.cut();
    // Its clients saw Redis go and wait to reconnect.
    for (let polls = 0; !worker.output().includes('ECONNREFUSED'); polls += 1) {
      expect(polls).toBeLessThan(600);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    worker.child.kill('SIGTERM');
    await worker.exited;
    expect(worker.output()).not.toContain('did not finish within');
    // Nest ends the process with the signal it received once every shutdown hook returned.
    expect(worker.child.signalCode).toBe('SIGTERM');
  }, 120_000);
});
