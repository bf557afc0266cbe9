import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
  postgresTestServer,
} from '@diyml/core/testing/postgres-test-database.js';
import { EventStore } from '@diyml/event-store';
import { compareReadStores, InMemoryReadStore, ProjectionRunner, ReadStore, replayAll } from '@diyml/read-store';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/** What a user saw of the dataset after one step: to be seen again with `asOf` that step's position. */
interface Seen {
  step: string;
  projectId: string;
  position: number;
  /** The images list, by filter. */
  images: Record<string, unknown>;
  analysis: unknown;
}

/** Filters of the images list asked at every step, besides one per label (by id, as names change). */
const FILTERS = [
  '',
  'unlabeled=true',
  'unlabeled=false',
  'split=validation',
  'included=false',
  'metadata=camera=north',
];

const server = postgresTestServer();

describe.each([{ mode: 'embedded', postgres: false }, ...(server ? [{ mode: 'PostgreSQL', postgres: true }] : [])])(
  'audit of a varied history ($mode): asOf every step shows what the dataset was, a rebuild gives the live read models',
  ({ postgres }) => {
    let database: PostgresTestDatabase | undefined;
    let testApp: TestApp;
    let client: ApiClient;
    const seen: Seen[] = [];
    const get = (path: string) => client.http.get(path).set('Authorization', client.auth);
    const send = (method: 'put' | 'patch' | 'delete', path: string, body?: object) =>
      client.http[method](path).set('Authorization', client.auth).send(body);

    async function lastPosition(projectId: string): Promise<number> {
      let after = -1;
      let last = -1;
      for (;;) {
        const page = (await get(`/v1/projects/${projectId}/history?limit=1000&after=${after}`).expect(200)).body as {
          items: { position: number }[];
          nextCursor: string | null;
        };
        last = page.items.at(-1)?.position ?? last;
        if (page.nextCursor === null) return last;
        after = Number(page.nextCursor);
      }
    }

    /** The filters, with one for each label the project has now. */
    const filtersOf = async (projectId: string) => {
      const { labels } = (await get(`/v1/projects/${projectId}`).expect(200)).body as { labels: { id: string }[] };
      return [...FILTERS, ...labels.map((label) => `label=${label.id}`)];
    };
    const imagesBy = async (projectId: string, filters: string[], asOf = '') =>
      Object.fromEntries(
        await Promise.all(
          filters.map(async (filter) => [
            filter,
            (await get(`/v1/projects/${projectId}/images?limit=1000&${filter}${asOf}`).expect(200)).body,
          ]),
        ),
      ) as Record<string, unknown>;

    async function see(project: { id: string }, step: string): Promise<void> {
      seen.push({
        step,
        projectId: project.id,
        position: await lastPosition(project.id),
        images: await imagesBy(project.id, await filtersOf(project.id)),
        analysis: (await get(`/v1/projects/${project.id}/analysis`).expect(200)).body,
      });
    }

    beforeAll(async () => {
      database = postgres ? await createPostgresTestDatabase(server!) : undefined;
      testApp = await startTestApp({ settings: database ? { POSTGRES_URL: database.url } : {} });
      client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);

      const tags = await client.createProject('multilabel', ['a', 'b', 'c']);
      const p = `/v1/projects/${tags.id}`;
      const [first, second, third] = (await client.upload(tags.id, await colouredSquares(RED, 3, 41))).map(
        (image) => image.id!,
      );
      await see(tags, 'uploaded');
      await send('put', `${p}/images/${first}/label`, { labels: ['a', 'b'] }).expect(200);
      await send('put', `${p}/images/${second}/label`, { labels: ['c'] }).expect(200);
      await see(tags, 'tagged');
      await send('put', `${p}/images/${second}/metadata`, { metadata: { camera: 'north' } }).expect(200);
      await send('patch', `${p}/images/${second}`, { split: 'validation' }).expect(200);
      await send('patch', `${p}/images/${third}`, { included: false }).expect(200);
      await see(tags, 'metadata, split, excluded');
      await send('patch', `${p}/labels/${tags.labels.a}`, { name: 'alpha' }).expect(200);
      await send('put', `${p}/labels/${tags.labels.c}/negative`).expect(200);
      await see(tags, 'renamed, negative');
      await send('put', `${p}/images/${first}/label`, { labels: ['b'] }).expect(200);
      await send('patch', p, { type: 'classification' }).expect(200);
      await send('put', `${p}/images/${second}/metadata`, { metadata: { camera: 'south', lens: 'wide' } }).expect(200);
      await see(tags, 'classification');
      await send('delete', `${p}/labels/${tags.labels.b}`).expect(204);
      await send('delete', `${p}/images/${third}`).expect(204);
      await send('patch', p, { type: 'multilabel' }).expect(200);
      await see(tags, 'label and image removed, multilabel again');

      const boxes = await client.createProject('detection', ['car', 'bike']);
      const d = `/v1/projects/${boxes.id}`;
      const [photo] = (await client.upload(boxes.id, await colouredSquares(BLUE, 1, 42))).map((image) => image.id!);
      const box = { x: 0.1, y: 0.1, width: 0.5, height: 0.5 };
      await send('put', `${d}/images/${photo}/regions`, {
        regions: [
          { label: 'car', ...box },
          { label: 'bike', ...box, x: 0.4 },
        ],
      }).expect(200);
      await see(boxes, 'boxes');
      await send('patch', `${d}/labels/${boxes.labels.car}`, { name: 'truck' }).expect(200);
      await send('delete', `${d}/labels/${boxes.labels.bike}`).expect(204);
      await see(boxes, 'box label renamed and removed');
    }, 120_000);

    afterAll(async () => {
      await testApp?.destroy();
      if (database) rmSync(testApp.dataDir, { recursive: true, force: true });
      await database?.drop();
    });

    it('answers asOf the position of each step with the images and analysis the user saw right after it', async () => {
      for (const { step, projectId, position, images, analysis } of seen) {
        const then = {
          step,
          images: await imagesBy(projectId, Object.keys(images), `&asOf=${position}`),
          analysis: (await get(`/v1/projects/${projectId}/analysis?asOf=${position}`).expect(200)).body,
        };
        expect(then).toEqual({ step, images, analysis });
      }
    });

    it('rebuilds every read model from the log to exactly the live ones', async () => {
      const runner = testApp.app.get(ProjectionRunner);
      await runner.waitFor(await testApp.app.get(EventStore).headPosition());
      const rebuilt = new InMemoryReadStore();
      await replayAll(testApp.app.get(EventStore), runner.projections, rebuilt);
      const comparisons = await compareReadStores(runner.projections, testApp.app.get(ReadStore), rebuilt);
      expect(comparisons.filter((comparison) => !comparison.equal)).toEqual([]);
    });

    it('gives the same read models when a restart applies the events since the last checkpoint again', async () => {
      const runner = testApp.app.get(ProjectionRunner);
      const events = testApp.app.get(EventStore);
      await runner.waitFor(await events.headPosition());
      const projections = runner.projections.filter((projection) => projection.collections.length > 0);
      const repeated = new InMemoryReadStore();
      const log = await events.readAll({ after: -1, limit: 100_000 });
      const applyAll = async (event: (typeof log)[number]) => {
        for (const projection of projections)
          if (projection.eventTypes === 'all' || projection.eventTypes.includes(event.type))
            await projection.apply(event, repeated);
      };
      // A crash after every third event: the last three are applied again after the restart.
      for (const [index, event] of log.entries()) {
        await applyAll(event);
        if (index % 3 === 2) for (const again of log.slice(index - 2, index + 1)) await applyAll(again);
      }
      const comparisons = await compareReadStores(projections, testApp.app.get(ReadStore), repeated);
      expect(comparisons.filter((comparison) => !comparison.equal)).toEqual([]);
    });
  },
);
