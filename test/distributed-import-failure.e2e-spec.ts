import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Response } from 'superagent';
import type { DomainEvent, EventMetadata } from '@diyml/core/pure';
import { type AppendResult, EventStore, type ExpectedRevision, SqliteEventStore } from '@diyml/event-store';
import { ApiClient } from './support/api-client.js';
import { colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const binary = (response: Response, callback: (error: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => callback(null, Buffer.concat(chunks)));
};

/**
 * The embedded store, which goes away once armed: from the `failAfter`-th append after the import recorded
 * ProjectImported, `failures` appends fail as a PostgreSQL connection refused would.
 */
class StoreGoingAwayMidImport extends SqliteEventStore {
  failAfter: number | undefined;
  failures = 1;
  private appendsSinceImport: number | undefined;

  override async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedRevision: ExpectedRevision; metadata: EventMetadata },
  ): Promise<AppendResult> {
    if (this.appendsSinceImport !== undefined && (this.appendsSinceImport += 1) >= this.failAfter!) {
      if ((this.failures -= 1) === 0) this.failAfter = this.appendsSinceImport = undefined;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    }
    const appended = await super.append(streamId, events, options);
    if (this.failAfter !== undefined && events.some((event) => event.type === 'ProjectImported'))
      this.appendsSinceImport = 0;
    return appended;
  }
}

describe('a project import the store fails in the middle of', () => {
  let testApp: TestApp;
  let store: StoreGoingAwayMidImport;
  let client: ApiClient;
  let archive: Buffer;
  let userId: string;
  let originalId: string;

  const start = (dataDir?: string) =>
    startTestApp({
      dataDir,
      eventStore: (directory, upcasters) =>
        (store = new StoreGoingAwayMidImport({ filename: join(directory, 'events.sqlite'), upcasters })),
    });

  beforeAll(async () => {
    testApp = await start();
    const user = await registerAndLogIn(testApp);
    userId = user.id;
    client = new ApiClient(testApp, user.auth);
    const project = await client.createProject('classification', ['red'], 'original');
    originalId = project.id;
    await client.upload(project.id, await colouredSquares(RED, 3, 61), { label: 'red' }, 'red');
    const exported = await testApp.http
      .post(`/v1/projects/${project.id}/export`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse(binary)
      .expect(200);
    archive = exported.body as Buffer;
  });
  afterAll(async () => {
    await testApp?.destroy();
  });

  const projects = async (): Promise<{ id: string; name: string }[]> =>
    (await testApp.http.get('/v1/projects').set('Authorization', client.auth).expect(200)).body.items;
  const projectNames = async () => (await projects()).map((project) => project.name);
  const importArchive = () =>
    testApp.http
      .post('/v1/projects/import')
      .set('Authorization', client.auth)
      .field('name', 'imported')
      .attach('archive', archive, 'project.diyml.zip');

  it('answers 503 and leaves no half project, then the same archive imports whole', async () => {
    // The project's own stream (ProjectCreated, its label) is written, then its images are not.
    store.failAfter = 2;
    const failed = await importArchive();
    expect({ status: failed.status, code: failed.body.code }).toEqual({ status: 503, code: 'DEPENDENCY_UNAVAILABLE' });
    expect(store.failAfter).toBeUndefined();
    expect(await projectNames()).toEqual(['original']);

    const imported = await importArchive();
    expect(imported.status).toBe(201);
    expect((await projectNames()).sort()).toEqual(['imported', 'original']);
    const images = await testApp.http
      .get(`/v1/projects/${imported.body.project.id}/images`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(images.body.items).toHaveLength(3);
  });

  it('leaves the project for its owner to delete while the store refuses, and a restart deletes it', async () => {
    store.failAfter = 2;
    store.failures = 2; // the import's next append, then the deletion of what it wrote
    const failed = await importArchive();
    expect(failed.status).toBe(503);
    const originals = (await projects()).filter((project) => project.name === 'original');
    expect(originals).toHaveLength(2);
    const begun = originals.find((project) => project.id !== originalId)!;

    // What an api killed at this point leaves of a background import: started, writing the project's events.
    const importId = randomUUID();
    const at = new Date().toISOString();
    await testApp.app.get(EventStore).append(
      `archive-import-${importId}`,
      [
        { type: 'ProjectImportStarted', v: 1, data: { importId, archiveBytes: archive.length, startedAt: at } },
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
            importedProjectId: begun.id,
          },
        },
      ],
      { expectedRevision: 'no_stream', metadata: { userId, correlationId: randomUUID(), causationId: null, at } },
    );
    await testApp.close();
    testApp = await start(testApp.dataDir);

    expect((await projects()).map((project) => project.id)).not.toContain(begun.id);
    expect((await projectNames()).sort()).toEqual(['imported', 'original']);
    const status = await testApp.http.get(`/v1/projects/imports/${importId}`).set('Authorization', client.auth);
    expect(status.body).toMatchObject({ status: 'failed', error: { code: 'IMPORT_INTERRUPTED' } });
    expect(status.body.error.message).toContain(`the incomplete project ${begun.id} it had begun was deleted`);
  });
});
