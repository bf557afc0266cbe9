import { afterAll, describe, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@diyml/core/testing/free-port.js';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import {
  appsAreBuilt,
  BUILT_API,
  BUILT_WORKER,
  type BuiltProcess,
  createTestDatabase,
  spawnBuilt,
  startBuiltApi,
} from './support/built-processes.js';
import { TcpProxy } from '@diyml/core/testing/tcp-proxy.js';

const redis = await redisIsReachable();
const postgresServer = process.env.POSTGRES_URL || undefined;
const PASSWORD = 'never-printed-secret';
const dataDir = mkdtempSync(join(tmpdir(), 'diyml-startup-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The app's last stderr line (what an operator reads first) and its exit code. */
async function failedStart(
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | null; line: string; output: string }> {
  const started: BuiltProcess = spawnBuilt(entry, {
    // A data directory each: the tests run at the same time.
    DATA_DIR: mkdtempSync(join(dataDir, 'start-')),
    STARTUP_CONNECT_TIMEOUT_SECONDS: '2',
    ...env,
  });
  const code = await started.exited;
  const lines = started.stderr().trim().split('\n');
  return { code, line: lines[lines.length - 1], output: started.output() };
}

// Concurrent: each test mostly waits for a process to give up or start (~10 s one after the other on an idle machine).
(appsAreBuilt ? describe.concurrent : describe.skip)(
  `a wrong POSTGRES_URL or REDIS_URL stops start-up${appsAreBuilt ? '' : ' (skipped: run `npx nest build api` first)'}`,
  () => {
    it('stops the api when PostgreSQL does not answer, naming the setting and the address, password masked', async ({
      expect,
    }) => {
      const port = await freePort();
      const result = await failedStart(BUILT_API, {
        POSTGRES_URL: `postgres://diyml:${PASSWORD}@127.0.0.1:${port}/diyml`,
        REDIS_URL: '',
      });
      expect(result.code).toBe(1);
      expect(result.line).toBe(
        `POSTGRES_URL (postgres://diyml:***@127.0.0.1:${port}/diyml) did not answer within 2 s ` +
          `(STARTUP_CONNECT_TIMEOUT_SECONDS): connect ECONNREFUSED 127.0.0.1:${port}`,
      );
      expect(result.output).not.toContain(PASSWORD);
    });

    it('stops the worker when Redis does not answer, the same way', async ({ expect }) => {
      const port = await freePort();
      const result = await failedStart(BUILT_WORKER, {
        REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${port}`,
        POSTGRES_URL: '',
      });
      expect(result.code).toBe(1);
      expect(result.line).toBe(
        `REDIS_URL (redis://:***@127.0.0.1:${port}) did not answer within 2 s (STARTUP_CONNECT_TIMEOUT_SECONDS): ` +
          `connect ECONNREFUSED 127.0.0.1:${port}`,
      );
      expect(result.output).not.toContain(PASSWORD);
    });

    (redis ? it : it.skip)(
      `stops the worker at once when Redis refuses its credentials${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
      async ({ expect }) => {
        const url = new URL(TEST_REDIS_URL);
        url.username = 'nobody';
        url.password = PASSWORD;
        const result = await failedStart(BUILT_WORKER, {
          REDIS_URL: url.toString(),
          POSTGRES_URL: '',
          STARTUP_CONNECT_TIMEOUT_SECONDS: '600',
        });
        expect(result.code).toBe(1);
        expect(result.line).toMatch(/^REDIS_URL \(redis:\/\/nobody:\*\*\*@[^)]+\) refused the connection: WRONGPASS/);
        expect(result.output).not.toContain(PASSWORD);
      },
    );

    describe(`with a PostgreSQL server${postgresServer ? '' : ' (skipped: POSTGRES_URL is not set)'}`, () => {
      (postgresServer ? it : it.skip)('stops the api at once when the database does not exist', async ({ expect }) => {
        const url = new URL(postgresServer!);
        url.pathname = '/diyml_no_such_database';
        if (url.password) url.password = PASSWORD;
        const result = await failedStart(BUILT_API, {
          POSTGRES_URL: url.toString(),
          REDIS_URL: '',
          STARTUP_CONNECT_TIMEOUT_SECONDS: '600',
        });
        expect(result.code).toBe(1);
        expect(result.line).toMatch(
          /^POSTGRES_URL \(postgres:\/\/[^)]+\/diyml_no_such_database\) refused the connection: database "diyml_no_such_database" does not exist \(3D000\)$/,
        );
        expect(result.output).not.toContain(PASSWORD);
      });

      (postgresServer ? it : it.skip)(
        'waits for a database that comes up while the api starts, then serves',
        async ({ expect }) => {
          const database = await createTestDatabase(postgresServer!);
          const port = await freePort();
          // Nothing listens on the port yet: the api starts against a database that is not up.
          const api = startBuiltApi({
            DATA_DIR: mkdtempSync(join(dataDir, 'start-')),
            POSTGRES_URL: Object.assign(new URL(database.url), {
              hostname: '127.0.0.1',
              port: String(port),
            }).toString(),
            REDIS_URL: '',
            STARTUP_CONNECT_TIMEOUT_SECONDS: '120',
          });
          let proxy: TcpProxy | undefined;
          try {
            await new Promise((resolve) => setTimeout(resolve, 2000));
            proxy = await TcpProxy.start(database.url, port);
            const started = await api;
            try {
              expect((await fetch(`${started.url}/health`)).status).toBe(200);
            } finally {
              await started.stop();
            }
          } finally {
            await proxy?.close();
            await database.drop();
          }
        },
      );
    });
  },
);
