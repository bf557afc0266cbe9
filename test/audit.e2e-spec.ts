import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '@diyml/event-store';
import { compareReadStores, InMemoryReadStore, ProjectionRunner, ReadStore, replayAll } from '@diyml/read-store';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const CONFIG = {
  imageSize: 16,
  epochs: 3,
  batchSize: 8,
  learningRate: 0.01,
  seed: 5,
  augmentation: { horizontalFlip: true, cropScale: 0.9, brightness: 0.1 },
};

interface ManifestImage {
  id: string;
  labelId: string | null;
  split: string;
}

describe('audit: history, time travel, dataset diff, reproduction and replay', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let projectId: string;
  let first: { id: string; queuedAt: string };
  let second: { id: string };
  let redIds: string[];
  let blueIds: string[];
  const get = (path: string) => client.http.get(path).set('Authorization', client.auth);

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    const project = await client.createProject('classification', ['red', 'blue']);
    projectId = project.id;
    redIds = (await client.upload(projectId, await colouredSquares(RED, 8, 31), { label: 'red' }, 'red')).map(
      (item) => item.id!,
    );
    blueIds = (await client.upload(projectId, await colouredSquares(BLUE, 8, 32), { label: 'blue' }, 'blue')).map(
      (item) => item.id!,
    );
    // One relabel before the first iteration, so the history has more than uploads.
    await client.http
      .put(`/v1/projects/${projectId}/images/${blueIds[0]}/label`)
      .set('Authorization', client.auth)
      .send({ label: 'red' })
      .expect(200);
    await client.http
      .put(`/v1/projects/${projectId}/images/${blueIds[0]}/label`)
      .set('Authorization', client.auth)
      .send({ label: 'blue' })
      .expect(200);

    const queued = await client.train(projectId, CONFIG);
    first = await client.waitForIteration(projectId, queued.id);

    // More changes after the first iteration: new images, a relabel, an exclusion, a deletion.
    await client.upload(projectId, await colouredSquares(RED, 2, 33), { label: 'red' }, 'more-red');
    await client.http
      .put(`/v1/projects/${projectId}/images/${redIds[0]}/label`)
      .set('Authorization', client.auth)
      .send({ label: 'blue' })
      .expect(200);
    await client.http
      .patch(`/v1/projects/${projectId}/images/${redIds[1]}`)
      .set('Authorization', client.auth)
      .send({ included: false })
      .expect(200);
    await client.http
      .delete(`/v1/projects/${projectId}/images/${blueIds[1]}`)
      .set('Authorization', client.auth)
      .expect(204);
    const queuedAgain = await client.train(projectId, CONFIG);
    second = await client.waitForIteration(projectId, queuedAgain.id);
  }, 180_000);

  afterAll(async () => {
    await testApp.destroy();
  });

  it('lists every event of the project with the acting user, time and correlation id', async () => {
    const history = await get(`/v1/projects/${projectId}/history?limit=1000`).expect(200);
    const types = new Set(history.body.items.map((item: { type: string }) => item.type));
    for (const type of [
      'ProjectCreated',
      'LabelAdded',
      'ImageUploaded',
      'ImageLabeled',
      'ImageRemoved',
      'IterationQueued',
      'IterationStarted',
      'EpochCompleted',
      'IterationCompleted',
    ]) {
      expect(types).toContain(type);
    }
    for (const item of history.body.items) {
      expect(item.metadata).toEqual({
        userId: expect.any(String),
        correlationId: expect.any(String),
        at: expect.any(String),
      });
    }
    const completed = await get(`/v1/projects/${projectId}/history?type=IterationCompleted`).expect(200);
    expect(completed.body.items).toHaveLength(2);
  });

  it('answers asOf the first iteration queue time with exactly the images that iteration trained on', async () => {
    const manifest = (await get(`/v1/projects/${projectId}/iterations/${first.id}/dataset`).expect(200)).body;
    const asOf = encodeURIComponent(first.queuedAt);
    const then = await get(`/v1/projects/${projectId}/images?limit=1000&asOf=${asOf}`).expect(200);
    const asImages = then.body.items.map(
      (image: { id: string; label: { id: string } | null; split: string; included: boolean }) => ({
        id: image.id,
        labelId: image.label?.id ?? null,
        split: image.split,
        included: image.included,
      }),
    );
    const fromManifest = manifest.images.map((image: ManifestImage) => ({
      id: image.id,
      labelId: image.labelId,
      split: image.split,
      included: true,
    }));
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(asImages.sort(byId)).toEqual(fromManifest.sort(byId));

    const analysisThen = await get(`/v1/projects/${projectId}/analysis?asOf=${asOf}`).expect(200);
    expect(analysisThen.body.imageCount).toBe(16);
    const analysisNow = await get(`/v1/projects/${projectId}/analysis`).expect(200);
    expect(analysisNow.body.imageCount).toBe(17);
  });

  it('diffs the datasets of the two iterations exactly', async () => {
    const diff = (
      await get(`/v1/projects/${projectId}/iterations/${second.id}/dataset/diff?against=${first.id}`).expect(200)
    ).body;
    expect(diff.added).toHaveLength(2);
    expect(diff.removed.map((image: { imageId: string }) => image.imageId).sort()).toEqual(
      [blueIds[1], redIds[1]].sort(),
    );
    expect(diff.relabeled).toEqual([
      expect.objectContaining({
        imageId: redIds[0],
        before: expect.objectContaining({ label: 'red' }),
        after: expect.objectContaining({ label: 'blue' }),
      }),
    ]);
    expect(diff.unchanged).toBe(16 - 3);
  });

  it('reproduces an iteration with identical metrics and model on the same backend', async () => {
    const response = await client.http
      .post(`/v1/projects/${projectId}/iterations/${first.id}/reproduce`)
      .set('Authorization', client.auth)
      .expect(202);
    expect(response.body.reproducedFrom).toBe(first.id);
    const reproduced = await client.waitForIteration(projectId, response.body.id);
    expect(reproduced.status).toBe('completed');
    expect(reproduced.manifestSha256).toBe((await client.iteration(projectId, first.id)).manifestSha256);
    expect(reproduced.reproduction).toEqual({ sameMetrics: true, sameModel: true });
  }, 60_000);

  it('rebuilds every read model from the log to exactly the live ones', async () => {
    const runner = testApp.app.get(ProjectionRunner);
    await runner.waitFor(await testApp.app.get(EventStore).headPosition());
    const rebuilt = new InMemoryReadStore();
    const report = await replayAll(testApp.app.get(EventStore), runner.projections, rebuilt);
    expect(report.events).toBeGreaterThan(50);
    const comparisons = await compareReadStores(runner.projections, testApp.app.get(ReadStore), rebuilt);
    expect(comparisons.filter((comparison) => !comparison.equal)).toEqual([]);
    expect(comparisons.find((comparison) => comparison.collection === 'images')?.live).toBe(17);
  });
});
