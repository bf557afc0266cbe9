import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Test } from '@nestjs/testing';
import { readFileSync } from 'node:fs';
import { ReadOnlyAppModule, verifyReadModels } from '../apps/api/src/replay-verification.js';
import { Settings, validateSettings } from '@diyml/core';
import { datasetUpcasters } from '@diyml/datasets';
import { SqliteEventStore, Upcasters } from '@diyml/event-store';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { keras2Sequential } from './fixtures/keras/keras-fixtures.js';
import { ApiClient } from './support/api-client.js';
import { randomUUID } from 'node:crypto';
import { registerAndLogIn, startTestApp, startTestWorker, type TestApp } from './support/test-app.js';
import { makeVideo } from './support/videos.js';

/** Small limits for this app only, so the 413 is cheap to reach. */
const LIMITS = { VIDEO_MAX_BYTES: '60000', VIDEO_MAX_FRAMES: '6' };

type Video = {
  id: string;
  status: string;
  progress: { framesDone: number; frameCount: number };
  created: number;
  duplicates: number;
  rejected: number;
  error: unknown;
};

describe('videos over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };

  const uploadVideo = (projectId: string, video: Buffer, filename: string, fields: Record<string, string> = {}) => {
    let request = client.http
      .post(`/v1/projects/${projectId}/videos`)
      .set('Authorization', client.auth)
      .attach('video', video, filename);
    for (const [name, value] of Object.entries(fields)) request = request.field(name, value);
    return request;
  };
  const images = async (projectId: string) =>
    (await client.http.get(`/v1/projects/${projectId}/images?limit=100`).set('Authorization', client.auth).expect(200))
      .body.items as {
      id: string;
      filename: string;
      label: { name: string } | null;
      source?: { kind: string; videoId: string; timestampMs: number };
    }[];

  async function waitForVideo(projectId: string, videoId: string): Promise<Video> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await client.http
        .get(`/v1/projects/${projectId}/videos/${videoId}`)
        .set('Authorization', client.auth)
        .expect(200);
      if (response.body.status !== 'extracting') return response.body as Video;
      if (Date.now() > deadline) throw new Error('the frames are still being extracted after 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    Object.assign(process.env, LIMITS);
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    project = await client.createProject('classification', ['red', 'blue'], 'video');
  });
  afterAll(async () => {
    for (const name of Object.keys(LIMITS)) delete process.env[name];
    await testApp.destroy();
  });

  it('extracts an MP4 into labelled images at the chosen rate, each naming the video and its timestamp', async () => {
    const accepted = await uploadVideo(project.id, await makeVideo('testsrc', 2, 'mp4'), 'walk.mp4', {
      framesPerSecond: '2',
      label: 'red',
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({
      status: 'extracting',
      container: 'mp4',
      durationMs: 2000,
      width: 32,
      height: 24,
      framesPerSecond: 2,
      progress: { framesDone: 0, frameCount: 4 },
    });
    const video = await waitForVideo(project.id, accepted.body.id);
    expect(video).toMatchObject({
      status: 'completed',
      progress: { framesDone: 4, frameCount: 4 },
      created: 4,
      duplicates: 0,
      rejected: 0,
      error: null,
    });
    const frames = (await images(project.id)).filter((image) => image.source?.videoId === video.id);
    expect(frames.map((image) => image.source!.timestampMs)).toEqual([0, 500, 1000, 1500]);
    expect(frames.map((image) => image.filename)).toEqual([
      'walk-00000000ms.png',
      'walk-00000500ms.png',
      'walk-00001000ms.png',
      'walk-00001500ms.png',
    ]);
    expect(frames.every((image) => image.label?.name === 'red' && image.source?.kind === 'video')).toBe(true);
  });

  it('skips frames the project already holds: a still WebM gives one image, and the same video again gives none', async () => {
    const still = await makeVideo('color=c=blue', 3, 'webm');
    const first = await waitForVideo(
      project.id,
      (await uploadVideo(project.id, still, 'still.webm', { framesPerSecond: '1' }).expect(202)).body.id,
    );
    expect(first).toMatchObject({
      status: 'completed',
      progress: { framesDone: 3, frameCount: 3 },
      created: 1,
      duplicates: 2,
    });
    const again = await waitForVideo(
      project.id,
      (await uploadVideo(project.id, still, 'still-again.webm', { framesPerSecond: '1' }).expect(202)).body.id,
    );
    expect(again).toMatchObject({ status: 'completed', created: 0, duplicates: 3 });
  });

  it('takes at most VIDEO_MAX_FRAMES frames, reporting progress as it goes', async () => {
    const accepted = await uploadVideo(project.id, await makeVideo('testsrc', 2, 'mov', '40x30'), 'long.mov', {
      framesPerSecond: '10',
    }).expect(202);
    expect(accepted.body.progress).toEqual({ framesDone: 0, frameCount: 6 });
    const video = await waitForVideo(project.id, accepted.body.id);
    expect(video).toMatchObject({ status: 'completed', progress: { framesDone: 6, frameCount: 6 }, created: 6 });
  });

  it('refuses a corrupt video (422), another format (415) and one over the size limit (413), keeping nothing', async () => {
    const target = await client.createProject('classification', ['red'], 'refusals');
    const mp4 = await makeVideo('testsrc', 2, 'mp4');

    const corrupt = await uploadVideo(target.id, mp4.subarray(0, Math.floor(mp4.length / 3)), 'cut.mp4');
    expect(corrupt.status).toBe(422);
    expect(corrupt.body).toMatchObject({
      code: 'VIDEO_UNDECODABLE',
      message: expect.stringContaining('cannot be decoded'),
    });

    const garbage = await uploadVideo(target.id, Buffer.from('these bytes are not a video at all'), 'notes.mp4');
    expect(garbage.status).toBe(422);
    expect(garbage.body.code).toBe('VIDEO_UNDECODABLE');

    const avi = await uploadVideo(target.id, await makeVideo('testsrc', 1, 'avi'), 'old.avi');
    expect(avi.status).toBe(415);
    expect(avi.body).toMatchObject({ code: 'VIDEO_FORMAT_UNSUPPORTED', details: { format: 'avi' } });

    const large = await uploadVideo(target.id, Buffer.concat([mp4, Buffer.alloc(60_000)]), 'large.mp4');
    expect(large.status).toBe(413);
    expect(large.body.code).toBe('VIDEO_TOO_LARGE');

    const none = await client.http
      .post(`/v1/projects/${target.id}/videos`)
      .set('Authorization', client.auth)
      .field('framesPerSecond', '1');
    expect(none.status).toBe(400);
    expect(none.body.code).toBe('VIDEO_REQUIRED');

    expect(await images(target.id)).toEqual([]);
    const history = await client.http
      .get(`/v1/projects/${target.id}/history?limit=100`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(
      history.body.items.map((item: { type: string }) => item.type).filter((type: string) => type.startsWith('Video')),
    ).toEqual([]);
  });

  it("answers 404 for another user's video", async () => {
    const accepted = await uploadVideo(project.id, await makeVideo('color=c=red', 1, 'mp4'), 'red.mp4').expect(202);
    await waitForVideo(project.id, accepted.body.id);
    const other = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    const response = await other.http
      .get(`/v1/projects/${project.id}/videos/${accepted.body.id}`)
      .set('Authorization', other.auth);
    expect(response.status).toBe(404);
  });

  it('predicts every frame of a video through a deployment, as a background job with progress', async () => {
    // A small red/blue classifier from the Keras fixtures: no training needed.
    const imported = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', Buffer.from(await keras2Sequential()), 'red-blue.h5')
      .field('labels', 'red,blue')
      .field('inputRange', '0,1')
      .expect(201);
    const deployment = (
      await client.http
        .post(`/v1/projects/${project.id}/deployments`)
        .set('Authorization', client.auth)
        .send({ iterationId: imported.body.id })
        .expect(201)
    ).body;
    const predictVideo = (
      video: Buffer,
      filename: string,
      key: string | null = deployment.apiKey,
      deploymentId = deployment.id,
    ) => {
      const request = client.http
        .post(`/v1/predict/${deploymentId}/videos?framesPerSecond=2`)
        .attach('video', video, filename);
      return key ? request.set('X-Api-Key', key) : request;
    };
    const poll = async (id: string) => {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const response = await client.http
          .get(`/v1/predict/${deployment.id}/videos/${id}`)
          .set('X-Api-Key', deployment.apiKey)
          .expect(200);
        if (response.body.status !== 'running') return response.body;
        if (Date.now() > deadline) throw new Error('the video prediction is still running after 90 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    // One second of red, then one of blue.
    const colours =
      'color=c=red:duration=1:size=32x24:rate=10[red];color=c=blue:duration=1:size=32x24:rate=10[blue];[red][blue]concat';
    const accepted = await predictVideo(await makeVideo(colours, 2, 'mp4'), 'red-then-blue.mp4');
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({
      deploymentId: deployment.id,
      iterationId: imported.body.id,
      status: 'running',
      progress: { framesDone: 0, frameCount: 4 },
    });
    const done = await poll(accepted.body.id);
    expect(done).toMatchObject({ status: 'completed', progress: { framesDone: 4, frameCount: 4 }, error: null });
    const frames = done.frames as { timestampMs: number; predictions: { label: string; probability: number }[] }[];
    expect(frames.map((frame) => frame.timestampMs)).toEqual([0, 500, 1000, 1500]);
    expect(frames.map((frame) => frame.predictions[0].label)).toEqual(['red', 'red', 'blue', 'blue']);
    expect(frames.every((frame) => frame.predictions[0].probability > 0.9)).toBe(true);

    expect((await predictVideo(await makeVideo('color=c=red', 1, 'mp4'), 'red.mp4', null)).status).toBe(401);
    expect(
      (
        await predictVideo(
          await makeVideo('color=c=red', 1, 'mp4'),
          'red.mp4',
          deployment.apiKey,
          '00000000-0000-4000-8000-000000000000',
        )
      ).status,
    ).toBe(404);
    const corrupt = await predictVideo(Buffer.from('not a video'), 'broken.webm');
    expect(corrupt.status).toBe(422);
    expect(corrupt.body.code).toBe('VIDEO_UNDECODABLE');
    const unknown = await client.http
      .get(`/v1/predict/${deployment.id}/videos/00000000-0000-4000-8000-000000000000`)
      .set('X-Api-Key', deployment.apiKey);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('VIDEO_PREDICTION_NOT_FOUND');
  }, 150_000);

  it('keeps every video event in the history, versioned, and a replay rebuilds the same read models', async () => {
    const history = await client.http
      .get(`/v1/projects/${project.id}/history?limit=1000`)
      .set('Authorization', client.auth)
      .expect(200);
    const items = history.body.items as { type: string; v: number; data: Record<string, unknown> }[];
    const types = new Set(items.map((item) => item.type));
    for (const type of [
      'VideoUploaded',
      'VideoFramesProgressed',
      'VideoFramesExtracted',
      'VideoPredictionRequested',
      'VideoPredictionCompleted',
    ]) {
      expect(types).toContain(type);
    }
    expect(items.find((item) => item.type === 'ImageUploaded')).toMatchObject({
      v: 2,
      data: { source: { kind: 'video' } },
    });

    await testApp.close();
    const settings = validateSettings({ DATA_DIR: testApp.dataDir, LOG_LEVEL: 'warn' });
    const moduleRef = await Test.createTestingModule({ imports: [ReadOnlyAppModule] })
      .overrideProvider(Settings)
      .useValue(settings)
      .compile();
    await moduleRef.init();
    const report = await verifyReadModels(moduleRef);
    expect(report.equal).toBe(true);
    expect(report.comparisons.find((comparison) => comparison.collection === 'videos')).toMatchObject({ equal: true });
    expect(report.comparisons.find((comparison) => comparison.collection === 'video-predictions')).toMatchObject({
      equal: true,
    });
    await moduleRef.close();
    testApp = await startTestApp({ dataDir: testApp.dataDir });
  }, 60_000);

  it('reads an ImageUploaded stored as v1 as v2, from an uploaded file', async () => {
    const v1 = JSON.parse(readFileSync(new URL('./fixtures/events/ImageUploaded.v1.json', import.meta.url), 'utf8'));
    const store = new SqliteEventStore({ filename: ':memory:', upcasters: new Upcasters(datasetUpcasters) });
    await store.append(v1.streamId, [{ type: v1.type, v: v1.v, data: v1.data }], {
      expectedRevision: 'no_stream',
      metadata: v1.metadata,
    });
    const [event] = await store.readStream(v1.streamId);
    expect(event).toMatchObject({ v: 2, data: { ...v1.data, source: null } });
    await store.close();
  });
});

const redis = await redisIsReachable();

(redis ? describe : describe.skip)(
  `videos with a worker process on BullMQ${redis ? '' : ` (skipped: no Redis at ${TEST_REDIS_URL})`}`,
  () => {
    let testApp: TestApp;
    let worker: { close(): Promise<void> };

    beforeAll(async () => {
      testApp = await startTestApp({
        settings: { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: `diyml-test-${randomUUID()}` },
      });
      worker = await startTestWorker(testApp.settings);
    });
    afterAll(async () => {
      await worker.close();
      await testApp.destroy();
    });

    it('the worker extracts the frames of a video uploaded to the api', async () => {
      const client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
      const project = await client.createProject('classification', ['red'], 'video on a worker');
      const accepted = await client.http
        .post(`/v1/projects/${project.id}/videos`)
        .set('Authorization', client.auth)
        .attach('video', await makeVideo('testsrc', 2, 'webm'), 'walk.webm')
        .field('framesPerSecond', '1')
        .expect(202);
      const deadline = Date.now() + 60_000;
      let video: Video;
      for (;;) {
        video = (
          await client.http
            .get(`/v1/projects/${project.id}/videos/${accepted.body.id}`)
            .set('Authorization', client.auth)
            .expect(200)
        ).body;
        if (video.status !== 'extracting' || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(video).toMatchObject({ status: 'completed', created: 2, progress: { framesDone: 2, frameCount: 2 } });
    });
  },
);
