import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RecordedEvent, SqliteEventStore, type Upcasters } from '@diyml/event-store';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { ApiClient } from './support/api-client.js';
import { baseUrlOf } from './support/liveness-probe.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

vi.setConfig({ testTimeout: 120_000 });

const IMAGES = 12;
const PAGE = 5;
/** An image's own stream (not its content claim's, `image-content-…`). */
const IMAGE_STREAM = /^image-[0-9a-f]{8}-/;

/**
 * The embedded store, counting the reads of image streams (a snapshot reads each of the project's once), with a
 * networked store's latency on each when asked.
 */
class CountingReadsEventStore extends SqliteEventStore {
  imageStreamReads = 0;
  latencyMs = 0;

  constructor(filename: string, upcasters: Upcasters) {
    super({ filename, upcasters });
  }

  override async readStream(streamId: string): Promise<RecordedEvent[]> {
    if (IMAGE_STREAM.test(streamId)) {
      this.imageStreamReads += 1;
      if (this.latencyMs > 0) await sleep(this.latencyMs);
    }
    return super.readStream(streamId);
  }
}

/**
 * Paging through a project as it was (`?asOf=`) reads it from the log once per past position, not once per page: the
 * snapshot of a position the read models have reached never changes, so it is kept (AS_OF_CACHE_MAX_DOCUMENTS).
 */
describe('asOf pages from kept snapshots', () => {
  let testApp: TestApp;
  let store: CountingReadsEventStore;
  let client: ApiClient;
  let projectId: string;
  let labels: Record<string, string>;
  let ids: string[];
  /** The live list's pages right after the upload, as JSON. */
  let pagesThen: string[];
  let positionThen: number;
  let timesThen: string[];

  beforeAll(async () => {
    testApp = await startTestApp({
      eventStore: (dataDir, upcasters) =>
        (store = new CountingReadsEventStore(join(dataDir, 'events.sqlite'), upcasters)),
    });
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    ({ id: projectId, labels } = await client.createProject('classification', ['cat', 'dog'], 'as it was'));
    const files = await Promise.all(
      Array.from({ length: IMAGES }, (_, index) => generateImage(index, { width: 8, height: 8 })),
    );
    ids = (await client.upload(projectId, files, { label: labels.cat })).map((item) => item.id as string);
    pagesThen = (await pages('')).map((page) => page.text);
    positionThen = (await testApp.http.get('/health').expect(200)).body.info.eventStore.headPosition as number;
    // Two times after the upload and before any change: both mean the position of the upload's last event.
    timesThen = [new Date().toISOString()];
    await sleep(5);
    timesThen.push(new Date().toISOString());
    await sleep(5);

    // The project changes since: a relabel, a removal and more images.
    await client.http
      .put(`/v1/projects/${projectId}/images/${ids[0]}/label`)
      .set('Authorization', client.auth)
      .send({ label: 'dog' })
      .expect(200);
    await client.http
      .delete(`/v1/projects/${projectId}/images/${ids[1]}`)
      .set('Authorization', client.auth)
      .expect(204);
    await client.upload(projectId, [await generateImage(100, { width: 8, height: 8 })], {}, 'later');
  });

  afterAll(async () => {
    await testApp?.destroy();
  });

  /** Every page of the images list with `query` (e.g. `&asOf=…`), following nextCursor. */
  async function pages(query: string) {
    const answers = [];
    let cursor: string | null = null;
    do {
      const cursorQuery: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await client.http
        .get(`/v1/projects/${projectId}/images?limit=${PAGE}${query}${cursorQuery}`)
        .set('Authorization', client.auth)
        .expect(200);
      answers.push(page);
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    return answers;
  }

  it('pages a past position with the pages the list gave then, reading the project from the log once', async () => {
    expect(pagesThen).toHaveLength(Math.ceil(IMAGES / PAGE));
    store.imageStreamReads = 0;
    const past = await pages(`&asOf=${positionThen}`);
    expect(past.map((page) => page.text)).toEqual(pagesThen);
    expect(past.flatMap((page) => page.body.items.map((item: { id: string }) => item.id))).toEqual(ids);
    // One snapshot: each of the project's image streams (the one uploaded since too: the read takes them all, then
    // cuts at the position) read once, not once per page.
    const imageStreams = IMAGES + 1;
    expect(store.imageStreamReads).toBe(imageStreams);

    // Again, with other page sizes: the kept snapshot answers, and the log is not read.
    const whole = await client.http
      .get(`/v1/projects/${projectId}/images?limit=100&asOf=${positionThen}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(whole.body.items.map((item: { id: string }) => item.id)).toEqual(ids);
    expect(store.imageStreamReads).toBe(imageStreams);
  });

  it('shares one snapshot between two times that mean the same position', async () => {
    store.imageStreamReads = 0;
    const atFirst = await pages(`&asOf=${encodeURIComponent(timesThen[0])}`);
    const readsForFirst = store.imageStreamReads;
    expect(readsForFirst).toBeLessThanOrEqual(IMAGES + 1);
    const atSecond = await pages(`&asOf=${encodeURIComponent(timesThen[1])}`);
    expect(store.imageStreamReads).toBe(readsForFirst);
    for (const answers of [atFirst, atSecond]) expect(answers.map((page) => page.text)).toEqual(pagesThen);
  });

  it('builds a position the read models have not reached for each request, so it shows what comes later', async () => {
    const beyond = 1_000_000_000;
    const now = await pages(`&asOf=${beyond}`);
    expect(now.flatMap((page) => page.body.items)).toHaveLength(IMAGES);
    const [added] = await client.upload(projectId, [await generateImage(101, { width: 8, height: 8 })], {}, 'latest');
    const later = await pages(`&asOf=${beyond}`);
    const laterIds = later.flatMap((page) => page.body.items.map((item: { id: string }) => item.id));
    expect(laterIds).toHaveLength(IMAGES + 1);
    expect(laterIds.at(-1)).toBe(added.id);
  });

  it('abandons a snapshot build once every client waiting for it left, and builds it anew for the next one', async () => {
    // A position the read models reached that no request asked for yet.
    await client.http
      .post(`/v1/projects/${projectId}/labels`)
      .set('Authorization', client.auth)
      .send({ name: 'bird' })
      .expect(201);
    const position = (await testApp.http.get('/health').expect(200)).body.info.eventStore.headPosition as number;
    const imageStreams = IMAGES + 2;
    const baseUrl = await baseUrlOf(testApp);
    const abandonedGet = () => {
      const outgoing = httpRequest(`${baseUrl}/v1/projects/${projectId}/images?asOf=${position}`, {
        headers: { Authorization: client.auth },
      });
      outgoing.on('error', () => undefined);
      outgoing.end();
      return outgoing;
    };
    store.latencyMs = 30;
    store.imageStreamReads = 0;
    try {
      const requests = Array.from({ length: 4 }, abandonedGet);
      for (let waited = 0; store.imageStreamReads === 0; waited += 1) {
        if (waited > 2000) throw new Error('no snapshot build started');
        await sleep(5);
      }
      for (const request of requests) request.destroy();
      // The shared build stops at its next stream read: the count stops growing before it read them all.
      let reads = -1;
      while (reads !== store.imageStreamReads) {
        reads = store.imageStreamReads;
        await sleep(200);
      }
      expect(reads).toBeLessThan(imageStreams);

      const later = await client.http
        .get(`/v1/projects/${projectId}/images?limit=100&asOf=${position}`)
        .set('Authorization', client.auth)
        .expect(200);
      expect(later.body.items).toHaveLength(IMAGES + 1);
      expect(store.imageStreamReads).toBe(reads + imageStreams);
    } finally {
      store.latencyMs = 0;
    }
  });
});
