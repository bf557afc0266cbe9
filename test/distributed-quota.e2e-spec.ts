import { afterAll, describe, expect, it, vi } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { appsAreBuilt, createTestDatabase, startBuiltApi } from './support/built-processes.js';

vi.setConfig({ testTimeout: 240_000 });

const postgresServer = process.env.POSTGRES_URL || undefined;
const redis = await redisIsReachable();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: { accessToken?: string; id?: string; code?: string; items?: unknown[] };
}

/** The user quota of the test: small, so the concurrent uploads pass it many times over. */
const QUOTA = 5;
const UPLOADS = 24;

/**
 * The image quota holds across api replicas on shared stores (issue 17): a user's checks run one at a time and
 * reserve their images where every replica sees them (PostgreSQL, or Redis when set), so one user uploading to two
 * replicas at once cannot pass MAX_IMAGES_PER_USER. Before, each replica counted only its own requests in flight.
 */
describe('the image quota across two apis on shared stores', () => {
  const modes: { name: string; skipped?: string; env: () => Promise<Record<string, string>> }[] = [
    {
      name: 'PostgreSQL (reservations in PostgreSQL)',
      skipped: postgresServer ? undefined : 'POSTGRES_URL is not set',
      env: async () => ({ POSTGRES_URL: (await database()).url }),
    },
    {
      name: 'PostgreSQL and Redis (reservations on Redis)',
      skipped: !postgresServer ? 'POSTGRES_URL is not set' : !redis ? `no Redis at ${TEST_REDIS_URL}` : undefined,
      env: async () => ({
        POSTGRES_URL: (await database()).url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: `diyml-test-${randomUUID()}`,
      }),
    },
  ];
  const cleanups: (() => Promise<void>)[] = [];
  async function database() {
    const created = await createTestDatabase(postgresServer!);
    cleanups.push(created.drop);
    return created;
  }
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  for (const mode of modes) {
    const skipped = mode.skipped ?? (appsAreBuilt ? undefined : 'run `npx nest build api` first');
    (skipped ? it.skip : it)(
      `${mode.name}: concurrent uploads of one user to both apis store exactly the quota${skipped ? ` (skipped: ${skipped})` : ''}`,
      async () => {
        const shared = {
          ...(await mode.env()),
          JWT_SECRET: randomBytes(32).toString('hex'),
          MAX_IMAGES_PER_USER: String(QUOTA),
        };
        const start = async () => {
          const dataDir = mkdtempSync(join(tmpdir(), 'diyml-quota-'));
          cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
          const api = await startBuiltApi({ ...shared, DATA_DIR: dataDir });
          cleanups.push(() => api.stop());
          return api;
        };
        // The first creates the schema; the second starts on it.
        const first = await start();
        const second = await start();
        const apis = [first.url, second.url];
        const call = async (
          api: number,
          method: string,
          path: string,
          body?: unknown,
          auth?: string,
        ): Promise<Answer> => {
          const answer = await fetch(`${apis[api]}${path}`, {
            method,
            headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return {
            status: answer.status,
            body: ((await answer.json().catch(() => undefined)) ?? {}) as Answer['body'],
          };
        };

        const credentials = { username: `quota${Date.now().toString(36)}`, password: 'correct horse battery' };
        expect((await call(0, 'POST', '/v1/auth/register', credentials)).status).toBe(201);
        const login = await call(0, 'POST', '/v1/auth/login', credentials);
        const auth = `Bearer ${login.body.accessToken}`;
        const project = await call(0, 'POST', '/v1/projects', { name: 'quota', type: 'classification' }, auth);
        expect(project.status).toBe(201);
        // The second api reads the user and the project from the shared read models.
        for (
          let attempt = 0;
          (await call(1, 'GET', `/v1/projects/${project.body.id}`, undefined, auth)).status !== 200;
          attempt++
        ) {
          if (attempt > 300) throw new Error('the second api never saw the project');
          await sleep(100);
        }

        const images = await Promise.all(Array.from({ length: UPLOADS }, (_, index) => generateImage(7100 + index)));
        const answers = await Promise.all(
          images.map(async (image, index) => {
            const form = new FormData();
            form.append('images', new Blob([image]), `image-${index}.png`);
            const answer = await fetch(`${apis[index % 2]}/v1/projects/${project.body.id}/images`, {
              method: 'POST',
              headers: { Authorization: auth },
              body: form,
            });
            return { status: answer.status, body: (await answer.json()) as Answer['body'] } satisfies Answer;
          }),
        );
        const created = answers.filter((answer) => answer.status === 201);
        const refused = answers.filter((answer) => answer.status === 422);
        expect(answers.filter((answer) => ![201, 422].includes(answer.status))).toEqual([]);
        expect(created).toHaveLength(QUOTA);
        expect(refused).toHaveLength(UPLOADS - QUOTA);
        for (const answer of refused)
          expect(answer.body).toMatchObject({ code: 'IMAGE_QUOTA_EXCEEDED', details: { scope: 'user', adding: 1 } });

        for (const api of [0, 1]) {
          const list = await call(api, 'GET', `/v1/projects/${project.body.id}/images?limit=100`, undefined, auth);
          expect(list.body.items).toHaveLength(QUOTA);
        }
      },
    );
  }
});
