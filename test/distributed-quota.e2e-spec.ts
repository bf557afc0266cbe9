import { afterAll, describe, expect, it, vi } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { PostgresQuotaReservations, QUOTA_RESERVATION_TTL_MS } from '@diyml/datasets';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { appsAreBuilt, createTestDatabase, startBuiltApi } from './support/built-processes.js';

vi.setConfig({ testTimeout: 240_000 });

const postgresServer = process.env.POSTGRES_URL || undefined;
const redis = await redisIsReachable();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: { accessToken?: string; id?: string; code?: string; items?: unknown[]; details?: unknown };
}

/** The user quota of the test: small, so the concurrent uploads pass it many times over. */
const QUOTA = 5;
const UPLOADS = 24;
/**
 * How long the reservation of the replica that dies keeps its room: the expiry is stored with the reservation, so a
 * third of the product's QUOTA_RESERVATION_TTL_MS shows the same lapse with 10 s less waiting.
 */
const DEAD_RESERVATION_TTL_MS = QUOTA_RESERVATION_TTL_MS / 3;

/**
 * The image quota holds across api replicas on shared stores (issue 17): a user's checks run one at a time and
 * reserve their images where every replica sees them (PostgreSQL), so one user uploading to two replicas at once
 * cannot pass MAX_IMAGES_PER_USER. Before, each replica counted only its own requests in flight: 10 of 24 were stored
 * against a quota of 5.
 */
describe('the image quota across two apis on shared stores', () => {
  // Both deployments of the README keep the reservations in PostgreSQL (so Redis being down does not stop uploads);
  // the Redis adapter, used without PostgreSQL, passes the same contract suite.
  const modes: { name: string; skipped?: string; env: () => Promise<Record<string, string>> }[] = [
    {
      name: 'PostgreSQL and Redis',
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
        const shared: Record<string, string> = {
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
        const registered = await call(0, 'POST', '/v1/auth/register', credentials);
        expect(registered.status).toBe(201);
        const userId = registered.body.id!;
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

        const lists = await Promise.all(
          [0, 1].map((api) => call(api, 'GET', `/v1/projects/${project.body.id}/images?limit=100`, undefined, auth)),
        );
        for (const list of lists) expect(list.body.items).toHaveLength(QUOTA);

        // A replica that died mid-upload (its reservation of one image neither given back nor renewed) holds the room
        // it took only until the reservation lapses.
        const [removed] = lists[0].body.items as { id: string }[];
        const removal = await call(
          0,
          'DELETE',
          `/v1/projects/${project.body.id}/images/${removed.id}`,
          undefined,
          auth,
        );
        expect(removal.status).toBe(204);
        const dead = new PostgresQuotaReservations(shared.POSTGRES_URL);
        await dead.reserve(userId, [`user:${userId}`], 1, DEAD_RESERVATION_TTL_MS, async () => undefined);
        await dead.close();
        const uploadOne = async (seed: number) => {
          const form = new FormData();
          form.append('images', new Blob([await generateImage(seed)]), `after-${seed}.png`);
          const answer = await fetch(`${apis[1]}/v1/projects/${project.body.id}/images`, {
            method: 'POST',
            headers: { Authorization: auth },
            body: form,
          });
          return { status: answer.status, body: (await answer.json()) as Answer['body'] } satisfies Answer;
        };
        const held = await uploadOne(7200);
        expect(held).toMatchObject({ status: 422, body: { code: 'IMAGE_QUOTA_EXCEEDED', details: { left: 0 } } });
        let after = held;
        for (let seed = 7201; after.status === 422 && seed < 7201 + (DEAD_RESERVATION_TTL_MS + 20_000) / 500; seed++) {
          await sleep(500);
          after = await uploadOne(seed);
        }
        expect(after.status).toBe(201);
      },
    );
  }
});
