import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedEvent } from '@diyml/event-store';
import { SqliteEventStore, type Upcasters } from '@diyml/event-store';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { ApiClient } from '../support/api-client.js';
import { baseUrlOf } from '../support/liveness-probe.js';
import { registerAndLogIn, startTestApp, type TestApp } from '../support/test-app.js';

vi.setConfig({ testTimeout: 120_000 });

const IMAGES = 30;
/** An image's own stream (not its content claim's, `image-content-…`). */
const IMAGE_STREAM = /^image-[0-9a-f]{8}-/;
const ABANDONED = 6;

/**
 * The embedded store with a networked store's latency on every stream read, counting the reads of image streams:
 * the work a whole-project read (an `asOf` snapshot, an export) does, one stream at a time.
 */
class CountingReadsEventStore extends SqliteEventStore {
  imageStreamReads = 0;

  constructor(filename: string, upcasters: Upcasters) {
    super({ filename, upcasters });
  }

  override async readStream(streamId: string): Promise<RecordedEvent[]> {
    if (IMAGE_STREAM.test(streamId)) {
      this.imageStreamReads += 1;
      await sleep(3);
    }
    return super.readStream(streamId);
  }
}

/**
 * `?asOf=` reads and exports wait their turn for WHOLE_PROJECT_READS, one at a time in the process: a client that
 * left used to leave its read queued and run anyway, holding every later one behind it.
 */
describe('whole-project reads whose clients left', () => {
  let testApp: TestApp;
  let store: CountingReadsEventStore;
  let client: ApiClient;
  let baseUrl: string;
  let projectId: string;

  beforeAll(async () => {
    testApp = await startTestApp({
      eventStore: (dataDir, upcasters) =>
        (store = new CountingReadsEventStore(join(dataDir, 'events.sqlite'), upcasters)),
    });
    baseUrl = await baseUrlOf(testApp);
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    projectId = (await client.createProject('classification', [], 'abandoned reads')).id;
    const files = await Promise.all(
      Array.from({ length: IMAGES }, (_, index) => generateImage(index, { width: 8, height: 8 })),
    );
    expect((await client.upload(projectId, files)).filter((item) => item.status === 'created')).toHaveLength(IMAGES);
  });

  afterAll(async () => {
    await testApp?.destroy();
  });

  /** A GET whose client gives up: `abort` closes the connection before any answer. */
  function abandonedGet(path: string): { abort(): void } {
    const url = new URL(path, baseUrl);
    const outgoing = httpRequest({
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: { Authorization: client.auth },
    });
    outgoing.on('error', () => undefined);
    outgoing.end();
    return { abort: () => outgoing.destroy() };
  }

  async function untilSomeImageStreamIsRead(): Promise<void> {
    for (let waited = 0; store.imageStreamReads === 0; waited += 1) {
      if (waited > 2000) throw new Error('no whole-project read started');
      await sleep(5);
    }
  }

  /** An asOf past the log's head (the whole project) no earlier request asked for, so no kept page answers it. */
  let unaskedAsOf = 1_000_000;
  const newAsOf = () => (unaskedAsOf += 1);

  it.each([
    ['asOf image lists', () => `/v1/projects/{projectId}/images?asOf=${newAsOf()}`],
    ['asOf dataset analyses', () => `/v1/projects/{projectId}/analysis?asOf=${newAsOf()}`],
  ])('drops queued %s and stops the running one once their clients leave', async (_, pathOf) => {
    store.imageStreamReads = 0;
    const requests = Array.from({ length: ABANDONED }, () => abandonedGet(pathOf().replace('{projectId}', projectId)));
    // The first one is reading the project's streams; the others wait for their turn.
    await untilSomeImageStreamIsRead();
    for (const request of requests) request.abort();

    // A later read is not held behind the abandoned ones: when it is answered, they did little of their work.
    const later = await client.http
      .get(`/v1/projects/${projectId}/images?asOf=${newAsOf()}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(later.body.items).toHaveLength(IMAGES);
    // The later read reads every image stream once; the abandoned ones together at most one project's worth more
    // (the one running when its client left stops at its next stream). Before: each of the six read all of them.
    expect(store.imageStreamReads).toBeGreaterThanOrEqual(IMAGES);
    expect(store.imageStreamReads).toBeLessThan(2 * IMAGES);
  });

  it('drops a queued export whose client left', async () => {
    store.imageStreamReads = 0;
    // An asOf read holds the turn while an export queues behind it; both clients leave.
    const running = abandonedGet(`/v1/projects/${projectId}/images?asOf=${newAsOf()}`);
    await untilSomeImageStreamIsRead();
    const exportRequest = (() => {
      const url = new URL(`/v1/projects/${projectId}/export`, baseUrl);
      const outgoing = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { Authorization: client.auth },
      });
      outgoing.on('error', () => undefined);
      outgoing.end();
      return outgoing;
    })();
    await sleep(50);
    exportRequest.destroy();
    running.abort();
    const later = await client.http
      .get(`/v1/projects/${projectId}/images?asOf=${newAsOf()}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(later.body.items).toHaveLength(IMAGES);
    expect(store.imageStreamReads).toBeLessThan(2 * IMAGES);
  });
});
