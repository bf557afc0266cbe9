import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Response } from 'superagent';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { postgresTestServer } from '@diyml/core/testing/postgres-test-database.js';
import { EventStore } from '@diyml/event-store';
import { ProjectImports } from '@diyml/audit';
import { ApiClient } from './support/api-client.js';
import { colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const binary = (response: Response, callback: (error: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => callback(null, Buffer.concat(chunks)));
};

interface Status {
  id: string;
  status: 'pending' | 'done' | 'failed';
  projectId?: string;
  progress?: { phase: string; blobsStored: number; blobCount: number; importedProjectId: string | null };
  imported?: { project: { id: string }; deployments: unknown[] };
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/** A small project of one user, exported: the archive to import. */
async function exportedProject(testApp: TestApp, client: ApiClient): Promise<Buffer> {
  const project = await client.createProject('classification', ['red'], 'status');
  await client.upload(project.id, await colouredSquares(RED, 3, 51), { label: 'red' }, 'red');
  const exported = await testApp.http
    .post(`/v1/projects/${project.id}/export`)
    .set('Authorization', client.auth)
    .buffer(true)
    .parse(binary)
    .expect(200);
  return exported.body as Buffer;
}

const importInBackground = (testApp: TestApp, auth: string, archive: Buffer) =>
  testApp.http
    .post('/v1/projects/import')
    .set('Authorization', auth)
    .set('Prefer', 'respond-async')
    .attach('archive', archive, 'project.diyml.zip')
    .expect(202);

async function statusOf(testApp: TestApp, auth: string, importId: string): Promise<Status> {
  return (await testApp.http.get(`/v1/projects/imports/${importId}`).set('Authorization', auth).expect(200))
    .body as Status;
}

async function finished(testApp: TestApp, auth: string, importId: string): Promise<Status> {
  for (let waited = 0; ; waited += 100) {
    const status = await statusOf(testApp, auth, importId);
    if (status.status !== 'pending') return status;
    if (waited > 60_000) throw new Error(`import ${importId} still pending after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What an api killed in the middle of an import leaves in the log: the import started, its events being written. */
async function importCutShort(testApp: TestApp, userId: string, at: string): Promise<string> {
  const importId = randomUUID();
  await testApp.app.get(EventStore).append(
    `archive-import-${importId}`,
    [
      { type: 'ProjectImportStarted', v: 1, data: { importId, archiveBytes: 4096, startedAt: at } },
      {
        type: 'ProjectImportProgressed',
        v: 1,
        data: {
          importId,
          phase: 'writing-events',
          blobsStored: 3,
          blobCount: 3,
          eventsWritten: 2,
          eventCount: 9,
          importedProjectId: '0f5e7a3c-4b2d-4c1e-9f8a-7b6c5d4e3f21',
        },
      },
    ],
    { expectedRevision: 'no_stream', metadata: { userId, correlationId: randomUUID(), causationId: null, at } },
  );
  return importId;
}

describe('the status of an import in the background survives a restart', () => {
  let testApp: TestApp;

  afterAll(async () => {
    await testApp?.destroy();
  });

  it('keeps a finished import readable, and reports one the stop interrupted as failed, to send again', async () => {
    testApp = await startTestApp();
    const user = await registerAndLogIn(testApp);
    const client = new ApiClient(testApp, user.auth);
    const archive = await exportedProject(testApp, client);
    const accepted = await importInBackground(testApp, user.auth, archive);
    const done = await finished(testApp, user.auth, accepted.body.id);
    expect(done).toMatchObject({
      status: 'done',
      projectId: expect.any(String),
      progress: { phase: 'finishing', blobsStored: 3, blobCount: 3 },
    });
    expect(done.imported?.project.id).toBe(done.projectId);
    const interrupted = await importCutShort(testApp, user.id, new Date().toISOString());
    expect(await statusOf(testApp, user.auth, interrupted)).toMatchObject({ status: 'pending' });
    await testApp.close();

    testApp = await startTestApp({ dataDir: testApp.dataDir });
    const afterRestart = await statusOf(testApp, user.auth, accepted.body.id);
    expect(afterRestart).toMatchObject({ status: 'done', projectId: done.projectId });
    expect(afterRestart.imported).toBeUndefined();
    const failed = await statusOf(testApp, user.auth, interrupted);
    expect(failed).toMatchObject({
      status: 'failed',
      finishedAt: expect.any(String),
      error: {
        code: 'IMPORT_INTERRUPTED',
        details: { phase: 'writing-events', importedProjectId: '0f5e7a3c-4b2d-4c1e-9f8a-7b6c5d4e3f21' },
      },
    });
    expect(failed.error?.message).toContain('Send the archive again');
    const stranger = await registerAndLogIn(testApp);
    const hidden = await testApp.http
      .get(`/v1/projects/imports/${interrupted}`)
      .set('Authorization', stranger.auth)
      .expect(404);
    expect(hidden.body.code).toBe('PROJECT_IMPORT_NOT_FOUND');
  }, 180_000);
});

const server = postgresTestServer();

if (server) {
  describe('the status of an import in the background, with two apis sharing PostgreSQL', () => {
    const apis: TestApp[] = [];
    // Declared first so that it runs before the database is dropped.
    afterAll(async () => {
      for (const api of apis) await api.destroy();
    });
    const database = postgresDatabaseForThisFile(server);

    it('reads the same from the api that did not run it; the keys come once, from the one that did', async () => {
      const settings = {
        POSTGRES_URL: database.url,
        JWT_SECRET: 'an-import-status-secret-of-more-than-32-characters',
      };
      apis.push(await startTestApp({ settings }), await startTestApp({ settings }));
      const [running, other] = apis;
      const user = await registerAndLogIn(running);
      const client = new ApiClient(running, user.auth);
      const archive = await exportedProject(running, client);
      const accepted = await importInBackground(running, user.auth, archive);

      const seenElsewhere = await finished(other, user.auth, accepted.body.id);
      expect(seenElsewhere).toMatchObject({ status: 'done', projectId: expect.any(String) });
      expect(seenElsewhere.imported).toBeUndefined();
      const seenWhereRun = await finished(running, user.auth, accepted.body.id);
      expect(seenWhereRun).toMatchObject({ status: 'done', projectId: seenElsewhere.projectId });
      expect(seenWhereRun.imported?.project.id).toBe(seenElsewhere.projectId);
    }, 180_000);

    it('records as failed an import silent for a minute (its api died), on any api, and not one still heard of', async () => {
      const [running, other] = apis;
      const user = await registerAndLogIn(running);
      const silent = await importCutShort(running, user.id, new Date(Date.now() - 2 * 60_000).toISOString());
      const recent = await importCutShort(running, user.id, new Date().toISOString());
      const sweeper = other.app.get(ProjectImports);
      const shown = (importId: string) =>
        other.http.get(`/v1/projects/imports/${importId}`).set('Authorization', user.auth);
      for (
        let waited = 0;
        (await shown(recent)).status !== 200 || (await shown(silent)).status !== 200;
        waited += 100
      ) {
        if (waited > 20_000) throw new Error('the imports written to the log never showed');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The sweep every api runs every 30 s, run now.
      await sweeper.sweep();
      expect(await finished(running, user.auth, silent)).toMatchObject({
        status: 'failed',
        error: { code: 'IMPORT_INTERRUPTED' },
      });
      expect(await statusOf(other, user.auth, recent)).toMatchObject({ status: 'pending' });
    }, 120_000);
  });
} else {
  it.skip('import status with two apis sharing PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}
