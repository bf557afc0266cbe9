import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent, EventMetadata } from '@diyml/core/pure';
import { type AppendResult, type ExpectedRevision, SqliteEventStore, type Upcasters } from '@diyml/event-store';
import { verifyReadModels } from '../apps/api/src/replay-verification.js';
import { PredictionCancelled, predictOnThread } from '@diyml/evaluation';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';

type HistoryItem = { type: string; v: number; data: { testRunId?: string } };

/**
 * The embedded store, holding back the append of every TestRunCompleted while `hold` is on: a run can then not finish
 * before the test cancels it, however fast the machine predicts (a 400-image run had finished first under load).
 */
class HeldCompletionsEventStore extends SqliteEventStore {
  private held: Promise<void> | null = null;
  private releaseHeld = () => {};

  hold(): void {
    this.held = new Promise((resolve) => (this.releaseHeld = resolve));
  }

  release(): void {
    this.held = null;
    this.releaseHeld();
  }

  override async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedRevision: ExpectedRevision; metadata: EventMetadata },
  ): Promise<AppendResult> {
    if (this.held && events.some((event) => event.type === 'TestRunCompleted')) await this.held;
    return super.append(streamId, events, options);
  }
}

describe('cancelling a test run over HTTP', () => {
  let testApp: TestApp;
  let eventStore: HeldCompletionsEventStore;
  let client: ApiClient;
  let projectId: string;
  let iterationId: string;
  let images: { name: string; bytes: Buffer }[];

  const runs = () => `/v1/projects/${projectId}/iterations/${iterationId}/test-runs`;
  const requestRun = async (testSet = images) => {
    let request = client.http.post(runs()).set('Authorization', client.auth);
    for (const image of testSet) request = request.attach('images', image.bytes, image.name);
    const labels = Object.fromEntries(
      testSet.map((image) => [image.name, image.name.startsWith('r') ? 'red' : 'blue']),
    );
    const response = await request.field('labels', JSON.stringify(labels));
    expect(response.status).toBe(202);
    return response.body as { id: string; status: string };
  };
  const cancel = (testRunId: string, auth = client.auth) =>
    client.http.post(`${runs()}/${testRunId}/cancel`).set('Authorization', auth);
  const run = async (testRunId: string) =>
    (await client.http.get(`${runs()}/${testRunId}`).set('Authorization', client.auth).expect(200)).body;
  const waitUntilFinished = async (testRunId: string) => {
    const deadline = Date.now() + 150_000;
    for (;;) {
      const current = await run(testRunId);
      if (current.status !== 'requested') return current;
      if (Date.now() > deadline) throw new Error('test run still requested after 150 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const historyOf = async (testRunId: string) => {
    const history = await client.http
      .get(`/v1/projects/${projectId}/history?limit=500`)
      .set('Authorization', client.auth)
      .expect(200);
    return (history.body.items as HistoryItem[])
      .filter((item) => item.data.testRunId === testRunId)
      .map((item) => `${item.type}@${item.v}`);
  };

  beforeAll(async () => {
    testApp = await startTestApp({
      eventStore: (dataDir: string, upcasters: Upcasters) =>
        (eventStore = new HeldCompletionsEventStore({ filename: join(dataDir, 'events.sqlite'), upcasters })),
    });
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    projectId = (await client.createProject('classification', ['red', 'blue'])).id;
    const imported = await client.http
      .post(`/v1/projects/${projectId}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    iterationId = imported.body.id;
    images = [
      ...(await colouredSquares(RED, 20, 11)).map((bytes, i) => ({ name: `r${i}.png`, bytes })),
      ...(await colouredSquares(BLUE, 20, 12)).map((bytes, i) => ({ name: `b${i}.png`, bytes })),
    ];
  }, 240_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('cancels a running run and the one queued behind it: neither records results, and the queue goes on', async () => {
    eventStore.hold();
    const running = await requestRun();
    const queued = await requestRun();
    // Test runs run one at a time: the second waits behind the first.
    const cancelledQueued = await cancel(queued.id).expect(200);
    expect(cancelledQueued.body).toMatchObject({ id: queued.id, status: 'cancelled', metrics: null });
    const cancelledRunning = await cancel(running.id).expect(200);
    expect(cancelledRunning.body).toMatchObject({ id: running.id, status: 'cancelled', metrics: null });
    expect(cancelledRunning.body.completedAt).toEqual(expect.any(String));
    eventStore.release();

    const next = await requestRun();
    expect((await waitUntilFinished(next.id)).status).toBe('completed');
    for (const id of [running.id, queued.id]) {
      const after = await run(id);
      expect(after).toMatchObject({ status: 'cancelled', metrics: null });
      expect(after.predictions).toBeUndefined();
      expect(await historyOf(id)).toEqual(['TestRunRequested@1', 'TestRunCancelled@1']);
    }
    const again = await cancel(running.id);
    expect(again.status).toBe(200);
    expect(await historyOf(running.id)).toEqual(['TestRunRequested@1', 'TestRunCancelled@1']);

    const report = await verifyReadModels(testApp.app);
    expect(report.equal).toBe(true);
    expect(report.comparisons.find((comparison) => comparison.collection === 'test-runs')).toMatchObject({
      equal: true,
    });
  }, 240_000);

  it('refuses to cancel a finished run (409 TEST_RUN_FINISHED), an unknown one (404) and another user’s (404)', async () => {
    const finished = await requestRun();
    expect((await waitUntilFinished(finished.id)).status).toBe('completed');
    const late = await cancel(finished.id);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('TEST_RUN_FINISHED');
    expect((await run(finished.id)).status).toBe('completed');

    const unknown = await cancel('00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('TEST_RUN_NOT_FOUND');

    const stranger = await registerAndLogIn(testApp);
    const theirs = await cancel(finished.id, stranger.auth);
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('PROJECT_NOT_FOUND');
  }, 240_000);

  it('stops the prediction thread when its run is cancelled, without waiting for the predictions', async () => {
    const zip = new Uint8Array(modelZip(await tinyClassifier(['red', 'blue'])));
    const pngs = images.map((image) => new Uint8Array(image.bytes));
    const cancellation = new AbortController();
    const predicting = predictOnThread(zip, pngs, { threshold: 0, maxResults: 2 }, cancellation.signal);
    cancellation.abort();
    await expect(predicting).rejects.toBeInstanceOf(PredictionCancelled);
    const finished = await predictOnThread(zip, pngs, { threshold: 0, maxResults: 2 }, new AbortController().signal);
    expect(finished.predictions).toHaveLength(pngs.length);
  }, 240_000);
});
