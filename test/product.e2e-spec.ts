import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@diyml/core/testing/free-port.js';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';

const ROOT = join(import.meta.dirname, '..');
const API = join(ROOT, 'dist/apps/api/src/main.js');
const WORKER = join(ROOT, 'dist/apps/worker/src/main.js');
const built = existsSync(API) && existsSync(WORKER);

function start(
  entry: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      EVENTSTORE_CONNECTION_STRING: '',
      MONGODB_URI: '',
      POSTGRES_URL: '',
      REDIS_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

/**
 * The built product, started the way `npm start` starts it: catches what only shows outside the test
 * harness (module resolution of the compiled ESM, dependency injection of the real modules).
 */
(built ? describe : describe.skip)(
  `the built product${built ? '' : ' (skipped: run `npm run build` first; `npm test` does)'}`,
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'diyml-product-'));
    let base: string;
    let api: ReturnType<typeof start>;

    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      api = start(API, { PORT: String(port), DATA_DIR: dataDir });
      for (let attempt = 0; attempt < 300; attempt += 1) {
        if (api.child.exitCode !== null) throw new Error(`the api exited:\n${api.output()}`);
        try {
          if ((await fetch(`${base}/health`)).ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the api did not answer /health:\n${api.output()}`);
    }, 60_000);

    afterAll(async () => {
      api.child.kill('SIGTERM');
      await api.exited;
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('serves Swagger UI, the OpenAPI document and health', async () => {
      const docs = await fetch(`${base}/docs`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger-ui');
      const openApi = (await (await fetch(`${base}/docs-json`)).json()) as {
        paths: Record<string, unknown>;
        components: { securitySchemes: object };
      };
      expect(Object.keys(openApi.paths)).toEqual(
        expect.arrayContaining(['/v1/auth/register', '/v1/projects', '/v1/predict/{deploymentId}']),
      );
      expect(Object.keys(openApi.components.securitySchemes)).toContain('bearer');
      const health = (await (await fetch(`${base}/health`)).json()) as { status: string };
      expect(health.status).toBe('ok');
    });

    it('registers and logs a user in', async () => {
      const credentials = JSON.stringify({ username: 'smoke', password: 'smoke-test-password' });
      const headers = { 'content-type': 'application/json' };
      expect((await fetch(`${base}/v1/auth/register`, { method: 'POST', headers, body: credentials })).status).toBe(
        201,
      );
      const login = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers, body: credentials });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      const me = await fetch(`${base}/v1/users/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(((await me.json()) as { username: string }).username).toBe('smoke');
    });

    it('starts a worker when Redis is configured, and explains what is missing when it is not', async () => {
      const withoutRedis = start(WORKER, { DATA_DIR: dataDir });
      expect(await withoutRedis.exited).toBe(1);
      expect(withoutRedis.output()).toContain('set REDIS_URL');
      if (!(await redisIsReachable())) return;
      const worker = start(WORKER, {
        DATA_DIR: dataDir,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: `diyml-smoke-${randomUUID()}`,
      });
      // Two processes boot here; on a loaded 2-core machine one boot has taken over 20 s.
      for (let attempt = 0; attempt < 900 && !worker.output().includes('waiting for jobs'); attempt += 1) {
        if (worker.child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(worker.output()).toContain('waiting for jobs');
      worker.child.kill('SIGTERM');
      await worker.exited;
    }, 120_000);
  },
);
