import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Response } from 'superagent';
import { ApiClient } from './support/api-client.js';
import { colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const binary = (response: Response, callback: (error: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => callback(null, Buffer.concat(chunks)));
};

interface Entry {
  position: number;
  type: string;
  metadata: { at: string };
  names: { labels: Record<string, string> };
}
interface Listed {
  filename: string;
  label: { name: string } | null;
  labels?: { name: string }[];
}

/**
 * A project whose labels change after its images were labeled (a rename, a removal, a switch to multilabel) and
 * whose training is configured: the stream of the project then holds an event the embedding reactor reacts to.
 */
describe('an imported project keeps the order of its history: read models, asOf and history as in the original', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let originalId: string;
  let importedId: string;
  const get = (path: string) => client.http.get(path).set('Authorization', client.auth).expect(200);
  const history = async (projectId: string) =>
    (await get(`/v1/projects/${projectId}/history?limit=1000`)).body.items as Entry[];
  const listed = async (projectId: string, asOf?: string) =>
    (
      (await get(`/v1/projects/${projectId}/images?limit=1000${asOf ? `&asOf=${encodeURIComponent(asOf)}` : ''}`)).body
        .items as Listed[]
    )
      .map(({ filename, label, labels }) => ({
        filename,
        label: label?.name ?? null,
        labels: (labels ?? []).map((named) => named.name).sort(),
      }))
      .sort((a, b) => a.filename.localeCompare(b.filename));

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    const project = await client.createProject('classification', ['red', 'green'], 'reordered');
    originalId = project.id;
    const p = `/v1/projects/${project.id}`;
    await client.upload(project.id, await colouredSquares(RED, 2, 51), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(RED, 1, 52), { label: 'green' }, 'green');
    await client.http
      .patch(`${p}/labels/${project.labels.red}`)
      .set('Authorization', client.auth)
      .send({ name: 'crimson' })
      .expect(200);
    await client.http.delete(`${p}/labels/${project.labels.green}`).set('Authorization', client.auth).expect(204);
    await client.http.patch(p).set('Authorization', client.auth).send({ type: 'multilabel' }).expect(200);
    await client.configureTraining(project.id, { epochs: 2 });
    const archive = (
      await client.http.post(`${p}/export`).set('Authorization', client.auth).buffer(true).parse(binary).expect(200)
    ).body as Buffer;
    const imported = await client.http
      .post('/v1/projects/import')
      .set('Authorization', client.auth)
      .attach('archive', archive, 'project.diyml.zip')
      .expect(201);
    importedId = imported.body.project.id;
  }, 120_000);

  afterAll(async () => {
    await testApp?.destroy();
  });

  it('has the images with the labels they have in the original: a removed label gone, the others renamed, as tags of the multilabel project', async () => {
    expect(await listed(importedId)).toEqual(await listed(originalId));
    expect(await listed(importedId)).toEqual([
      { filename: 'green-0.png', label: null, labels: [] },
      { filename: 'red-0.png', label: null, labels: ['crimson'] },
      { filename: 'red-1.png', label: null, labels: ['crimson'] },
    ]);
  });

  it('lists the copied events in their original order, each at its original time and with the label names of then', async () => {
    const original = await history(originalId);
    const copied = (await history(importedId)).slice(1, 1 + original.length);
    const shown = (entries: Entry[]) =>
      entries.map(({ type, metadata, names }) => [type, metadata.at, Object.values(names.labels).sort()]);
    // Each with the label names it had then: the upload of a red image under "red", not the later "crimson".
    expect(shown(copied)).toEqual(shown(original));
  });

  it('answers asOf a time before the rename and removal with the labels the images had then', async () => {
    const original = await history(originalId);
    const renamedAt = original.find((entry) => entry.type === 'LabelRenamed')!.metadata.at;
    const before = new Date(Date.parse(renamedAt) - 1).toISOString();
    expect(await listed(importedId, before)).toEqual(await listed(originalId, before));
  });
});
