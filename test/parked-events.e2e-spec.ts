import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { postgresTestServer } from '@diyml/core/testing/postgres-test-database.js';
import { EventStore } from '@diyml/event-store';
import { ProjectionRunner } from '@diyml/read-store';
import { startTestApp, type TestApp } from './support/test-app.js';

const metadata = { userId: null, correlationId: 'broken-import', causationId: null, at: '2026-01-01T00:00:00.000Z' };

describe('an event the projections cannot apply', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('is parked after its retries, the app goes on, and /health names the projection and position', async () => {
    const runner = testApp.app.get(ProjectionRunner);
    runner.retryDelaysMs = [0];
    expect((await testApp.http.get('/health')).status).toBe(200);
    // Written by a broken tool straight into the log: a LabelRemoved without data.
    const { position } = await testApp.app
      .get(EventStore)
      .append('project-5b0c8c1e-7f0e-4a52-9d0e-2f1f2b7c9a10', [{ type: 'LabelRemoved', v: 1, data: null as never }], {
        expectedRevision: 'any',
        metadata,
      });
    await runner.waitFor(position, 10_000);
    const health = await testApp.http.get('/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ statusCode: 503, code: 'UNHEALTHY' });
    expect(health.body.message).toContain(`LabelRemoved at position ${position} in images`);
    const readModels = health.body.details.error.readModels;
    expect(readModels.status).toBe('down');
    expect(readModels.parked).toEqual(
      expect.arrayContaining([expect.objectContaining({ projection: 'projects', position, type: 'LabelRemoved' })]),
    );
    // Later events are still projected.
    expect(
      (
        await testApp.http
          .post('/v1/auth/register')
          .send({ username: 'after-parking', password: 'correct horse battery' })
      ).status,
    ).toBe(201);
  });
});

const server = postgresTestServer();

if (server) {
  describe('an event the projections cannot apply, with two apis sharing PostgreSQL', () => {
    const database = postgresDatabaseForThisFile(server);
    const apps: TestApp[] = [];

    afterAll(async () => {
      for (const testApp of apps) await testApp.destroy();
    });

    it('is shown by the /health of the api that follows the projecting one, with its position and lag', async () => {
      const settings = { POSTGRES_URL: database.url, JWT_SECRET: 'a-parked-events-secret-of-more-than-32-characters' };
      apps.push(await startTestApp({ settings }), await startTestApp({ settings }));
      const projecting = apps.find((testApp) => testApp.app.get(ProjectionRunner).projecting)!;
      const following = apps.find((testApp) => testApp !== projecting)!;
      expect(following.app.get(ProjectionRunner).projecting).toBe(false);
      projecting.app.get(ProjectionRunner).retryDelaysMs = [0];
      expect((await following.http.get('/health')).status).toBe(200);

      // A user registered through the follower: its write waits until the projecting api's checkpoint reached it.
      await following.http
        .post('/v1/auth/register')
        .send({ username: 'before-parking', password: 'correct horse battery' })
        .expect(201);
      const before = await following.http.get('/health').expect(200);
      expect(before.body.details.readModels).toMatchObject({ status: 'up', lag: 0 });

      const { position } = await following.app
        .get(EventStore)
        .append('project-0d6f4b1e-9a4c-4c2e-8f59-3f1b2a7d6c55', [{ type: 'LabelRemoved', v: 1, data: null as never }], {
          expectedRevision: 'any',
          metadata,
        });
      await following.app.get(ProjectionRunner).waitFor(position, 20_000);
      const health = await following.http.get('/health');
      expect(health.status).toBe(503);
      // Both projections that read LabelRemoved park it.
      expect(health.body.message).toContain(
        `2 event(s) could not be projected, first LabelRemoved at position ${position} in images`,
      );
      const readModels = health.body.details.error.readModels;
      expect(readModels).toMatchObject({ status: 'down', lag: 0 });
      expect(readModels.position).toBeGreaterThanOrEqual(position);
      expect(readModels.parked).toEqual([
        expect.objectContaining({ projection: 'images', position, type: 'LabelRemoved' }),
        expect.objectContaining({ projection: 'projects', position, type: 'LabelRemoved' }),
      ]);
      // Both apis answer the same.
      expect((await projecting.http.get('/health')).body.details.error.readModels.parked).toEqual(readModels.parked);
    }, 120_000);
  });
} else {
  it.skip('parked events with two apis on PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}
