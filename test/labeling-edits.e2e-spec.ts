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
import { modelZip, tinyClassifier } from './support/tiny-models.js';

const server = postgresTestServer();

/** Sequences of dataset edits a person makes, and what the images, counts and suggestions show after them. */
describe.each([
  ['embedded read models', false],
  ['PostgreSQL read models', true],
])('labeling edits in sequence (%s)', (_, onPostgres) => {
  let testApp: TestApp | undefined;
  let database: PostgresTestDatabase | undefined;
  let client: ApiClient;

  const get = (path: string) => client.http.get(path).set('Authorization', client.auth);
  const send = (method: 'post' | 'put' | 'patch' | 'delete', path: string, body?: object) =>
    client.http[method](path)
      .set('Authorization', client.auth)
      .send(body ?? {});

  beforeAll(async () => {
    if (onPostgres && !server) return;
    if (onPostgres) database = await createPostgresTestDatabase(server!);
    testApp = await startTestApp({
      settings: database
        ? { POSTGRES_URL: database.url, JWT_SECRET: 'a-postgres-e2e-secret-of-more-than-32-characters' }
        : {},
    });
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  }, 60_000);
  afterAll(async () => {
    if (!testApp) return;
    await testApp.destroy();
    if (database) {
      rmSync(testApp.dataDir, { recursive: true, force: true });
      await database.drop();
    }
  });

  /** Each label's count as the labels list, the label filter's total and the analysis give it. */
  const countsOf = async (projectId: string) => {
    const labels = (await get(`/v1/projects/${projectId}/labels`).expect(200)).body.items as {
      id: string;
      name: string;
      imageCount: number;
    }[];
    const analysis = (await get(`/v1/projects/${projectId}/analysis`).expect(200)).body;
    const counts: Record<string, { listed: number; filtered: number; analysed: number }> = {};
    for (const label of labels) {
      const filtered = (await get(`/v1/projects/${projectId}/images?label=${label.id}`).expect(200)).body.total;
      const analysed = analysis.perLabel.find((entry: { label: { id: string } }) => entry.label.id === label.id).count;
      counts[label.name] = { listed: label.imageCount, filtered, analysed };
    }
    const unlabeled = (await get(`/v1/projects/${projectId}/images?unlabeled=true`).expect(200)).body.total;
    return { counts, unlabeled, analysedUnlabeled: analysis.unlabeledCount, labeled: analysis.labeledCount };
  };
  const same = (count: number) => ({ listed: count, filtered: count, analysed: count });

  /** Every image of a filter, a page of one at a time. */
  const pageThrough = async (projectId: string, query: string) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const after: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = (await get(`/v1/projects/${projectId}/images?limit=1${query}${after}`).expect(200)).body;
      ids.push(...page.items.map((image: { id: string }) => image.id));
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  };

  it('keeps every count in agreement through removing a label, batch relabels, a type switch and a negative label', async ({
    skip,
  }) => {
    if (!testApp) skip();
    const project = await client.createProject('multilabel', ['a', 'b', 'c']);
    const upload = async (labels: string[], seed: number) =>
      (await client.upload(project.id, await colouredSquares(RED, 1, seed), { labels: JSON.stringify(labels) }))[0].id!;
    const both = await upload(['a', 'B'], 21);
    const onlyB = await upload(['b'], 22);
    const onlyC = await upload(['c'], 23);
    const untagged = (await client.upload(project.id, await colouredSquares(BLUE, 1, 24)))[0].id!;
    expect(await countsOf(project.id)).toEqual({
      counts: { a: same(1), b: same(2), c: same(1) },
      unlabeled: 1,
      analysedUnlabeled: 1,
      labeled: 3,
    });

    await send('delete', `/v1/projects/${project.id}/labels/${project.labels.c}`).expect(204);
    const batch = await send('post', `/v1/projects/${project.id}/images/labels`, {
      items: [
        { imageId: untagged, labels: ['A'] },
        { imageId: both, labels: ['b'] },
        { imageId: onlyC, labels: [] },
      ],
    }).expect(200);
    expect(batch.body).toMatchObject({ updated: 2, unchanged: 1, failed: 0 });
    expect(await countsOf(project.id)).toEqual({
      counts: { a: same(1), b: same(2) },
      unlabeled: 1,
      analysedUnlabeled: 1,
      labeled: 3,
    });

    await send('patch', `/v1/projects/${project.id}`, { type: 'classification' }).expect(200);
    const relabeled = await send('put', `/v1/projects/${project.id}/images/${onlyB}/label`, { label: 'a' }).expect(200);
    expect(relabeled.body.label.name).toBe('a');
    await send('put', `/v1/projects/${project.id}/labels/${project.labels.b}/negative`).expect(200);
    await send('patch', `/v1/projects/${project.id}/images/${both}`, { included: false, split: 'test' }).expect(200);
    expect(await countsOf(project.id)).toEqual({
      counts: { a: same(2), b: same(1) },
      unlabeled: 1,
      analysedUnlabeled: 1,
      labeled: 3,
    });

    const labeled = await pageThrough(project.id, '&unlabeled=false');
    expect(labeled).toEqual([both, onlyB, untagged]);
    expect(await pageThrough(project.id, `&label=${project.labels.a}&included=true`)).toEqual([onlyB, untagged]);
    expect(await pageThrough(project.id, '&split=test&included=false')).toEqual([both]);

    // Edits between two pages: the image of the first page removed, the next one unlabeled; the cursor goes on.
    const images = `/v1/projects/${project.id}/images`;
    const first = (await get(`${images}?limit=1&unlabeled=false`).expect(200)).body;
    expect(first.items.map((image: { id: string }) => image.id)).toEqual([both]);
    await send('delete', `${images}/${both}`).expect(204);
    await send('put', `${images}/${onlyB}/label`, { label: null }).expect(200);
    const rest = (await get(`${images}?limit=10&unlabeled=false&cursor=${encodeURIComponent(first.nextCursor)}`)).body;
    expect({ ids: rest.items.map((image: { id: string }) => image.id), total: rest.total }).toEqual({
      ids: [untagged],
      total: 1,
    });
    expect(await countsOf(project.id)).toEqual({
      counts: { a: same(1), b: same(0) },
      unlabeled: 2,
      analysedUnlabeled: 2,
      labeled: 1,
    });
  });

  it('refuses null for an optional field with a clear 400, and a batch holding such an item changes no image', async ({
    skip,
  }) => {
    if (!testApp) skip();
    const project = await client.createProject('multilabel', ['a', 'b']);
    const [{ id: imageId }] = await client.upload(project.id, await colouredSquares(RED, 1, 31), { labels: '["a"]' });
    const image = `/v1/projects/${project.id}/images/${imageId}`;
    const refusals = [
      await send('put', `${image}/label`, { labels: null }),
      await send('patch', image, { split: null }),
      await send('patch', image, { included: null }),
      await send('post', `/v1/projects/${project.id}/images/labels`, {
        items: [
          { imageId, labels: ['b'] },
          { imageId, labels: null },
        ],
      }),
    ];
    expect(
      refusals.map((response) => [response.status, response.body.code, response.body.details?.[0]?.field]),
    ).toEqual([
      [400, 'VALIDATION_FAILED', 'labels'],
      [400, 'VALIDATION_FAILED', 'split'],
      [400, 'VALIDATION_FAILED', 'included'],
      [400, 'VALIDATION_FAILED', 'items.1.labels'],
    ]);
    const detection = await client.createProject('detection', ['car']);
    const [{ id: boxed }] = await client.upload(detection.id, await colouredSquares(RED, 1, 32));
    const box = { label: 'car', x: 0, y: 0, width: 0.5, height: 0.5 };
    const regions = await send('post', `/v1/projects/${detection.id}/images/labels`, {
      items: [
        { imageId: boxed, regions: [box] },
        { imageId: boxed, regions: null },
      ],
    });
    expect([regions.status, regions.body.details?.[0]?.field]).toEqual([400, 'items.1.regions']);

    const after = (await get(image).expect(200)).body;
    expect(after).toMatchObject({ split: 'train', included: true, revision: 1 });
    expect(after.labels.map((label: { name: string }) => label.name)).toEqual(['a']);
    expect((await get(`/v1/projects/${detection.id}/images/${boxed}`).expect(200)).body.regions).toEqual([]);
  });

  it('refuses `label` and `labels` in one request rather than keep one of them silently', async ({ skip }) => {
    if (!testApp) skip();
    const project = await client.createProject('multilabel', ['a', 'b']);
    const [{ id: imageId }] = await client.upload(project.id, await colouredSquares(RED, 1, 41));
    const single = await send('put', `/v1/projects/${project.id}/images/${imageId}/label`, {
      label: 'b',
      labels: ['a'],
    });
    const batch = await send('post', `/v1/projects/${project.id}/images/labels`, {
      items: [{ imageId, label: 'b', labels: ['a'] }],
    });
    expect([single.status, single.body.code]).toEqual([400, 'LABEL_AND_LABELS']);
    expect(single.body.message).toContain('`labels`');
    expect([batch.status, batch.body.items[0].error?.code]).toEqual([207, 'LABEL_AND_LABELS']);
    expect((await get(`/v1/projects/${project.id}/images/${imageId}`).expect(200)).body.labels).toEqual([]);
  });

  it('accepts a suggestion for an image whose label was removed from the project: the list shows it unlabeled', async ({
    skip,
  }) => {
    if (!testApp) skip();
    const project = await client.createProject('classification', ['red', 'blue', 'old']);
    const [{ id: imageId }] = await client.upload(project.id, await colouredSquares(RED, 1, 11), { label: 'old' });
    await send('delete', `/v1/projects/${project.id}/labels/${project.labels.old}`).expect(204);
    const unlabeled = (await get(`/v1/projects/${project.id}/images?unlabeled=true`).expect(200)).body;
    expect(unlabeled.items.map((image: { id: string }) => image.id)).toEqual([imageId]);

    const iteration = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    const suggestions = `/v1/projects/${project.id}/iterations/${iteration.body.id}/suggestions`;
    const requested = await send('post', suggestions, {}).expect(202);
    expect(requested.body.imageCount).toBe(1);
    for (;;) {
      const run = (await get(`${suggestions}/runs/${requested.body.id}`).expect(200)).body;
      if (run.status !== 'requested') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const accepted = await send('post', `${suggestions}/accept`, { items: [{ imageId, label: 'blue' }] });
    expect(accepted.body).toMatchObject({ accepted: 1, failed: 0, items: [{ imageId, status: 'accepted' }] });
    const image = (await get(`/v1/projects/${project.id}/images/${imageId}`).expect(200)).body;
    expect(image.label.name).toBe('blue');
  }, 120_000);
});
