import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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
    expect(health.body.message).toContain(`LabelRemoved at position ${position} in projects`);
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
