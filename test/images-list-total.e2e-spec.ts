import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
  postgresTestServer,
} from '@diyml/core/testing/postgres-test-database.js';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const server = postgresTestServer();

/** The images list says how many images its filters match in all, so that a screen can say "1–3 of 7". */
describe.each([
  ['embedded read models', false],
  ['PostgreSQL read models', true],
])('images list total (%s)', (_, onPostgres) => {
  let testApp: TestApp;
  let database: PostgresTestDatabase | undefined;
  let client: ApiClient;
  let projectId: string;
  let labels: Record<string, string>;
  let cats: string[];
  let dogs: string[];

  beforeAll(async () => {
    if (onPostgres && !server) return;
    if (onPostgres) database = await createPostgresTestDatabase(server!);
    testApp = await startTestApp({
      settings: database
        ? { POSTGRES_URL: database.url, JWT_SECRET: 'a-postgres-e2e-secret-of-more-than-32-characters' }
        : {},
    });
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    ({ id: projectId, labels } = await client.createProject('classification', ['cat', 'dog'], 'counted'));
    cats = (await client.upload(projectId, await colouredSquares(RED, 5, 1, 8), { label: labels.cat }, 'cat')).map(
      (item) => item.id!,
    );
    dogs = (
      await client.upload(projectId, await colouredSquares(BLUE, 2, 2, 8), { label: labels.dog, split: 'test' }, 'dog')
    ).map((item) => item.id!);
    await client.upload(projectId, await colouredSquares(RED, 1, 3, 8), {}, 'unlabeled');
  }, 60_000);
  afterAll(async () => {
    if (!testApp) return;
    await testApp.destroy();
    if (database) {
      rmSync(testApp.dataDir, { recursive: true, force: true });
      await database.drop();
    }
  });

  const list = async (query: string) =>
    (await client.http.get(`/v1/projects/${projectId}/images?${query}`).set('Authorization', client.auth).expect(200))
      .body as { items: { id: string }[]; nextCursor: string | null; total: number };

  it('counts every page of the filter, the same on each page', async ({ skip }) => {
    if (!testApp) skip();
    const first = await list('limit=3');
    expect(first.items).toHaveLength(3);
    expect(first.total).toBe(8);
    const second = await list(`limit=3&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(second.total).toBe(8);

    expect((await list('limit=2&label=cat')).total).toBe(5);
    expect((await list(`limit=2&label=${labels.dog}`)).total).toBe(2);
    expect((await list('unlabeled=true')).total).toBe(1);
    expect((await list('unlabeled=false&split=test')).total).toBe(2);
    expect((await list('split=validation')).total).toBe(0);
  });

  it('counts a change in the very next list', async ({ skip }) => {
    if (!testApp) skip();
    expect((await list('limit=1&label=dog')).total).toBe(2);
    await client.http
      .put(`/v1/projects/${projectId}/images/${cats[0]}/label`)
      .set('Authorization', client.auth)
      .send({ label: 'dog' })
      .expect(200);
    expect((await list('limit=1&label=dog')).total).toBe(3);
    expect((await list('limit=1&label=cat')).total).toBe(4);
    await client.http
      .delete(`/v1/projects/${projectId}/images/${dogs[0]}`)
      .set('Authorization', client.auth)
      .expect(204);
    expect((await list('limit=1&label=dog')).total).toBe(2);
    expect((await list('limit=1')).total).toBe(7);
  });

  it('counts the images as they were with asOf', async ({ skip }) => {
    if (!testApp) skip();
    const position = (await testApp.http.get('/health').expect(200)).body.info.eventStore.headPosition as number;
    await client.upload(projectId, await colouredSquares(BLUE, 2, 4, 8), { label: labels.dog }, 'later');
    expect((await list('limit=1&label=dog')).total).toBe(4);
    const then = await list(`limit=1&label=dog&asOf=${position}`);
    expect(then.items).toHaveLength(1);
    expect(then.total).toBe(2);
    expect((await list(`limit=1&asOf=${position}`)).total).toBe(7);
  });
});
