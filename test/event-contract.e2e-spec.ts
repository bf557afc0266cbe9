import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Response } from 'superagent';
import { IMPORT_RUN_EVENT_TYPES, NEWEST_EVENT_VERSIONS } from '@diyml/audit';
import { imageContentStream, VideoFramesJobProcessor } from '@diyml/datasets';
import { VideoPredictionJobProcessor } from '@diyml/deployments';
import { UsageRecorder } from '@diyml/deployments';
import { LabelSuggestionsJobProcessor } from '@diyml/evaluation';
import { TestRunJobProcessor } from '@diyml/evaluation';
import { EventStore, type RecordedEvent } from '@diyml/event-store';
import { USER_EVENT_TYPES } from '@diyml/identity';
import { identityUpcasters } from '@diyml/identity';
import { iterationStream, TrainingJobProcessor } from '@diyml/training';
import { ApiClient } from './support/api-client.js';
import { startBackboneHost } from './support/backbone-host.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { makeVideo } from './support/videos.js';

/**
 * Stored events are a contract with every installation's log: when a payload's shape changes, its `v` must change
 * too (with an upcaster for the old one). A new field that every reader defaults when it is absent (a new training
 * setting, say) may keep its `v`: then update the fixture and say why in the commit. test/fixtures/events/current/<type>.v<v>.json keeps, for each type and
 * version a journey through the API emits, one real payload and the shape of all of them (keys, optional keys and
 * JSON types, not values). Every event type the code declares must have one at its newest version, so a new type or
 * version is emitted by the journey below first. After adding an event type or version, write its fixture (only missing or changed shapes
 * are written) with
 * `UPDATE_EVENT_FIXTURES=1 npm run test:vitest -- test/event-contract.e2e-spec.ts`, read it, and commit it.
 */
const FIXTURES = new URL('./fixtures/events/current/', import.meta.url);
const UPDATE = process.env.UPDATE_EVENT_FIXTURES === '1';
const TINY = {
  imageSize: 16,
  epochs: 1,
  batchSize: 8,
  learningRate: 0.01,
  seed: 3,
  architecture: 'small-cnn',
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

interface Shape {
  types: string[];
  properties?: Record<string, Shape>;
  optional?: string[];
  items?: Shape;
  /** For counts keyed by a number (latency buckets, status codes): the shape of every value. */
  values?: Shape;
}

interface EventFixture {
  type: string;
  v: number;
  example: unknown;
  shape: Shape;
}

function shapeOf(value: unknown): Shape {
  if (value === null) return { types: ['null'] };
  if (Array.isArray(value)) {
    const items = value
      .map(shapeOf)
      .reduce<Shape | undefined>((merged, item) => (merged ? mergeShapes(merged, item) : item), undefined);
    return items ? { types: ['array'], items } : { types: ['array'] };
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    // Which numbers are keys varies from run to run (how long a prediction took); the shape of the values does not.
    if (entries.length > 0 && entries.every(([key]) => /^\d+$/.test(key))) {
      return { types: ['object'], values: entries.map(([, entry]) => shapeOf(entry)).reduce(mergeShapes) };
    }
    return { types: ['object'], properties: Object.fromEntries(entries.map(([key, entry]) => [key, shapeOf(entry)])) };
  }
  return { types: [typeof value] };
}

/** The shape both values could have: union of types; keys one object has and another lacks become optional (not when the other is null). */
function mergeShapes(a: Shape, b: Shape): Shape {
  const merged: Shape = { types: [...new Set([...a.types, ...b.types])].sort() };
  if (a.properties || b.properties) {
    const keys = [...new Set([...Object.keys(a.properties ?? {}), ...Object.keys(b.properties ?? {})])].sort();
    const optional = new Set([...(a.optional ?? []), ...(b.optional ?? [])]);
    merged.properties = {};
    for (const key of keys) {
      const left = a.properties?.[key];
      const right = b.properties?.[key];
      if ((a.properties && !left) || (b.properties && !right)) optional.add(key);
      merged.properties[key] = left && right ? mergeShapes(left, right) : (left ?? right)!;
    }
    if (optional.size > 0) merged.optional = [...optional].sort();
  }
  if (a.items || b.items) merged.items = a.items && b.items ? mergeShapes(a.items, b.items) : (a.items ?? b.items);
  if (a.values || b.values)
    merged.values = a.values && b.values ? mergeShapes(a.values, b.values) : (a.values ?? b.values);
  return merged;
}

/**
 * Every event type the code declares at its newest version: the project events an import reads (the contexts'
 * type lists, gathered by the import), and the account events, whose newest version is one past their last upcaster.
 */
const DECLARED_EVENT_VERSIONS = new Map<string, number>([
  ...NEWEST_EVENT_VERSIONS,
  ...IMPORT_RUN_EVENT_TYPES.map((type): [string, number] => [type, 1]),
  ...[...USER_EVENT_TYPES, 'UsernameClaimed'].map((type): [string, number] => [
    type,
    1 +
      Math.max(
        0,
        ...identityUpcasters.filter((upcaster) => upcaster.type === type).map((upcaster) => upcaster.fromVersion),
      ),
  ]),
]);

const fixtureFile = (type: string, v: number) => new URL(`${type}.v${v}.json`, FIXTURES);

const binary = (response: Response, callback: (error: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => callback(null, Buffer.concat(chunks)));
};

/** Polls `read` every 100 ms until `done` holds for what it answers, and returns that. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('stored event payloads (the log contract)', () => {
  let testApp: TestApp;
  let backboneHost: Awaited<ReturnType<typeof startBackboneHost>>;
  const emitted = new Map<string, RecordedEvent[]>();

  beforeAll(async () => {
    backboneHost = await startBackboneHost('tiny-url');
    testApp = await startTestApp({ settings: { BACKBONES_FILE: backboneHost.backbonesFile } });
    const user = await registerAndLogIn(testApp);
    // A background job whose attempts are used up (its worker ran out of memory, say) ends in a failure event: the
    // job queue then calls the processor's `failed`, as this does, each time right after the job is queued.
    const givenUp = new Error('the worker ran out of memory');
    const client = new ApiClient(testApp, user.auth);
    const as = <T extends { set(name: string, value: string): T }>(request: T) =>
      request.set('Authorization', user.auth);

    const token = await as(testApp.http.post('/v1/users/me/tokens')).send({ name: 'ci' }).expect(201);
    await as(testApp.http.delete(`/v1/users/me/tokens/${token.body.id}`)).expect(204);

    const project = await client.createProject('classification', ['red', 'blue', 'spare']);
    await as(testApp.http.patch(`/v1/projects/${project.id}`))
      .send({ name: 'Colours', description: 'red or blue' })
      .expect(200);
    await as(testApp.http.patch(`/v1/projects/${project.id}/labels/${project.labels.spare}`))
      .send({ name: 'green' })
      .expect(200);
    await as(testApp.http.delete(`/v1/projects/${project.id}/labels/${project.labels.spare}`)).expect(204);
    await client.configureTraining(project.id, TINY);
    const red = await client.upload(project.id, await colouredSquares(RED, 8, 11), { label: 'red' }, 'red');
    const blue = await client.upload(project.id, await colouredSquares(BLUE, 6, 12), {}, 'blue');
    for (const image of blue)
      await as(testApp.http.put(`/v1/projects/${project.id}/images/${image.id}/label`))
        .send({ label: 'blue' })
        .expect(200);
    await client.upload(project.id, await colouredSquares(RED, 2, 13), { label: 'red', split: 'test' }, 'test-red');
    await as(testApp.http.patch(`/v1/projects/${project.id}/images/${red[0].id}`))
      .send({ included: false })
      .expect(200);
    await as(testApp.http.patch(`/v1/projects/${project.id}/images/${red[0].id}`))
      .send({ included: true, split: 'validation' })
      .expect(200);
    await as(testApp.http.delete(`/v1/projects/${project.id}/images/${red[3].id}`)).expect(204);
    // A file whose upload claimed its content in a process that died: sent again, it abandons that upload's image.
    const [interrupted] = await colouredSquares(RED, 1, 17);
    const interruptedSha = createHash('sha256').update(interrupted).digest('hex');
    await testApp.app.get(EventStore).append(
      imageContentStream(project.id, interruptedSha),
      [
        {
          type: 'ImageContentClaimed',
          v: 2,
          data: {
            projectId: project.id,
            sha256: interruptedSha,
            imageId: randomUUID(),
            processId: `upload-process:${randomUUID()}`,
          },
        },
      ],
      {
        expectedRevision: 'no_stream',
        metadata: { userId: null, correlationId: 'died', causationId: null, at: new Date().toISOString() },
      },
    );
    expect(await client.upload(project.id, [interrupted], {}, 'interrupted')).toMatchObject([{ status: 'created' }]);

    const iteration = await client.waitForIteration(project.id, (await client.train(project.id)).id);
    expect(iteration.status).toBe('completed');
    const runs = `/v1/projects/${project.id}/iterations/${iteration.id}/test-runs`;
    const run = await as(testApp.http.post(runs)).send({ split: 'test' }).expect(202);
    // Test runs run one at a time: this one waits behind the first when it is cancelled.
    const behind = await as(testApp.http.post(runs)).send({ split: 'test' }).expect(202);
    await as(testApp.http.post(`${runs}/${behind.body.id}/cancel`)).expect(200);
    const doomedRun = await as(testApp.http.post(runs)).send({ split: 'test' }).expect(202);
    await testApp.app
      .get(TestRunJobProcessor)
      .failed({ v: 1, projectId: project.id, testRunId: doomedRun.body.id }, givenUp);
    await until(
      async () => (await as(testApp.http.get(`${runs}/${run.body.id}`)).expect(200)).body.status,
      (status) => status !== 'requested',
    );

    // Frames of a video, unlabeled, taken in two batches (progress recorded after the first).
    const video = await as(testApp.http.post(`/v1/projects/${project.id}/videos`))
      .attach('video', await makeVideo('testsrc', 1), 'walk.mp4')
      .field('framesPerSecond', '5')
      .expect(202);
    const extracted = await until(
      async () => (await as(testApp.http.get(`/v1/projects/${project.id}/videos/${video.body.id}`)).expect(200)).body,
      (read) => read.status !== 'extracting',
    );
    expect(extracted).toMatchObject({ status: 'completed', created: 5 });
    const doomedVideo = await as(testApp.http.post(`/v1/projects/${project.id}/videos`))
      .attach('video', await makeVideo('color=c=red', 1), 'red.mp4')
      .expect(202);
    await testApp.app.get(VideoFramesJobProcessor).failed({ v: 1, videoId: doomedVideo.body.id }, givenUp);

    // Suggestions for the frames from the trained iteration; one of them rejected.
    const suggestions = `/v1/projects/${project.id}/iterations/${iteration.id}/suggestions`;
    const suggestionRun = await as(testApp.http.post(suggestions)).send({}).expect(202);
    const suggested = await until(
      async () => (await as(testApp.http.get(`${suggestions}/runs/${suggestionRun.body.id}`)).expect(200)).body,
      (read) => read.status !== 'requested',
    );
    expect(suggested.status).toBe('completed');
    const [suggestion, stillPending] = (await as(testApp.http.get(suggestions)).expect(200)).body.items;
    await as(testApp.http.post(`${suggestions}/reject`))
      .send({ imageIds: [suggestion.imageId] })
      .expect(200);
    // Named, not "every unlabeled image": the doomed video may or may not have left frames by now.
    const doomedSuggestions = await as(testApp.http.post(suggestions))
      .send({ imageIds: [stillPending.imageId] })
      .expect(202);
    await testApp.app
      .get(LabelSuggestionsJobProcessor)
      .failed({ v: 1, projectId: project.id, iterationId: iteration.id, runId: doomedSuggestions.body.id }, givenUp);
    const long = await client.train(project.id, { epochs: 500 });
    // Another run of the job takes the iteration over (attempt 2), then its worker stops and hands it back.
    const started = (attempt: number) =>
      until(
        () => testApp.app.get(EventStore).readStream(iterationStream(long.id)),
        (events) =>
          events.some(
            (event) => event.type === 'IterationStarted' && (event.data as { attempt: number }).attempt === attempt,
          ),
      );
    await started(1);
    const handBack = new AbortController();
    const takeover = testApp.app
      .get(TrainingJobProcessor)
      .process(
        { v: 1, projectId: project.id, iterationId: long.id },
        { id: long.id, attempt: 1, maxAttempts: 1, reportProgress: async () => {}, handedBack: handBack.signal },
      );
    await started(2);
    handBack.abort();
    await takeover;
    await as(testApp.http.post(`/v1/projects/${project.id}/iterations/${long.id}/cancel`)).expect(200);
    expect((await client.waitForIteration(project.id, long.id)).status).toBe('cancelled');
    const doomed = await client.train(project.id);
    await testApp.app
      .get(TrainingJobProcessor)
      .failed({ v: 1, projectId: project.id, iterationId: doomed.id }, givenUp);
    expect((await client.waitForIteration(project.id, doomed.id)).status).toBe('failed');

    await as(testApp.http.patch(`/v1/projects/${project.id}/iterations/${iteration.id}`))
      .send({ name: 'first' })
      .expect(200);
    await as(testApp.http.delete(`/v1/projects/${project.id}/iterations/${long.id}`)).expect(204);
    await as(testApp.http.put(`/v1/projects/${project.id}/images/${red[1].id}/metadata`))
      .send({ metadata: { camera: 'phone' } })
      .expect(200);

    const deployment = await as(testApp.http.post(`/v1/projects/${project.id}/deployments`))
      .send({ iterationId: iteration.id })
      .expect(201);
    const deployed = `/v1/projects/${project.id}/deployments/${deployment.body.id}`;
    await as(testApp.http.put(`${deployed}/prediction-store`))
      .send({ enabled: true, maxCount: 10 })
      .expect(200);
    const [photo] = await colouredSquares(RED, 1, 15);
    const predicted = await testApp.http
      .post(`/v1/predict/${deployment.body.id}`)
      .set('X-Api-Key', deployment.body.apiKey)
      .set('Content-Type', 'image/png')
      .send(photo)
      .expect(200);
    for (let stored = 0; stored === 0; await new Promise((resolve) => setTimeout(resolve, 50))) {
      stored = (await as(testApp.http.get(`/v1/projects/${project.id}/predictions`)).expect(200)).body.items.length;
    }
    await as(testApp.http.post(`/v1/projects/${project.id}/predictions/promote`))
      .send({ items: [{ predictionId: predicted.body.storedPredictionId, label: 'red' }] })
      .expect(200);
    await as(testApp.http.delete(`/v1/projects/${project.id}/predictions/${predicted.body.storedPredictionId}`)).expect(
      204,
    );
    // Predictions are counted in memory and flushed to the log now and then (USAGE_FLUSH_SECONDS).
    await testApp.app.get(UsageRecorder).flush();

    // 40 frames of a video predicted in two chunks (progress recorded after the first).
    const videoPrediction = await testApp.http
      .post(`/v1/predict/${deployment.body.id}/videos?framesPerSecond=10`)
      .set('X-Api-Key', deployment.body.apiKey)
      .attach('video', await makeVideo('testsrc', 4), 'walk.mp4')
      .expect(202);
    const videoPredicted = await until(
      async () =>
        (
          await testApp.http
            .get(`/v1/predict/${deployment.body.id}/videos/${videoPrediction.body.id}`)
            .set('X-Api-Key', deployment.body.apiKey)
            .expect(200)
        ).body,
      (read) => read.status !== 'running',
    );
    expect(videoPredicted).toMatchObject({ status: 'completed', progress: { framesDone: 40, frameCount: 40 } });
    const doomedPrediction = await testApp.http
      .post(`/v1/predict/${deployment.body.id}/videos`)
      .set('X-Api-Key', deployment.body.apiKey)
      .attach('video', await makeVideo('color=c=red', 1), 'red.mp4')
      .expect(202);
    await testApp.app
      .get(VideoPredictionJobProcessor)
      .failed({ v: 1, videoPredictionId: doomedPrediction.body.id }, givenUp);
    await as(testApp.http.put(`${deployed}/share`))
      .send({ name: 'Colours', description: 'red or blue' })
      .expect(200);
    await as(testApp.http.delete(`${deployed}/share`)).expect(204);
    await as(testApp.http.post(`${deployed}/rotate-key`)).expect(200);
    await as(testApp.http.delete(deployed)).expect(204);
    const model = modelZip(await tinyClassifier(['red', 'blue']));
    await as(testApp.http.post(`/v1/projects/${project.id}/models`))
      .attach('model', model, 'model.zip')
      .expect(201);

    const detection = await client.createProject('detection', ['square']);
    const [scene] = await client.upload(detection.id, await colouredSquares(RED, 1, 14), {}, 'scene');
    await as(testApp.http.put(`/v1/projects/${detection.id}/images/${scene.id}/regions`))
      .send({ regions: [{ label: 'square', x: 0.1, y: 0.1, width: 0.5, height: 0.5 }] })
      .expect(200);
    const archive = await as(testApp.http.post(`/v1/projects/${detection.id}/export`))
      .buffer(true)
      .parse(binary)
      .expect(200);
    await as(testApp.http.post('/v1/projects/import'))
      .attach('archive', archive.body as Buffer, 'project.diyml.zip')
      .expect(201);
    // Imports in the background: one that completes, one that fails (a truncated archive).
    for (const [bytes, outcome] of [
      [archive.body as Buffer, 'done'],
      [(archive.body as Buffer).subarray(0, 100), 'failed'],
    ] as const) {
      const accepted = await as(testApp.http.post('/v1/projects/import'))
        .set('Prefer', 'respond-async')
        .attach('archive', bytes, 'project.diyml.zip')
        .expect(202);
      await until(
        async () => (await as(testApp.http.get(accepted.headers.location)).expect(200)).body.status,
        (status) => status === outcome,
      );
    }
    await as(testApp.http.delete(`/v1/projects/${detection.id}`)).expect(204);

    // A multilabel project's images carry label sets.
    const multilabel = await client.createProject('multilabel', ['red', 'square']);
    const [both] = await client.upload(
      multilabel.id,
      await colouredSquares(RED, 1, 15),
      { labels: JSON.stringify(['red', 'square']) },
      'both',
    );
    await as(testApp.http.put(`/v1/projects/${multilabel.id}/images/${both.id}/label`))
      .send({ labels: ['square'] })
      .expect(200);
    // Its negative label ("none of the others"), and a switch to classification (each image has one label now).
    const none = await as(testApp.http.post(`/v1/projects/${multilabel.id}/labels`))
      .send({ name: 'none' })
      .expect(201);
    await as(testApp.http.put(`/v1/projects/${multilabel.id}/labels/${none.body.id}/negative`)).expect(200);
    await as(testApp.http.patch(`/v1/projects/${multilabel.id}`))
      .send({ type: 'classification' })
      .expect(200);

    // Photos embedded in the background on the backbone the training configuration names.
    const bars = await client.createProject('classification', ['bars']);
    await client.configureTraining(bars.id, { architecture: 'backbone-classifier', backbone: 'tiny-url' });
    await client.upload(bars.id, await colouredSquares(BLUE, 2, 16), { label: 'bars' }, 'bars');
    await until(
      async () => (await as(testApp.http.get(`/v1/projects/${bars.id}/embeddings`)).expect(200)).body.items,
      (tables) => tables.length > 0,
    );

    for (const event of await testApp.app.get(EventStore).readAll()) {
      const key = `${event.type}.v${event.v}`;
      emitted.set(key, [...(emitted.get(key) ?? []), event]);
    }
  }, 420_000);

  afterAll(async () => {
    await testApp.destroy();
    await backboneHost.close();
  });

  it('emits each event type and version with the payload shape its fixture records', () => {
    if (UPDATE) mkdirSync(FIXTURES, { recursive: true });
    const missing: string[] = [];
    for (const [key, events] of emitted) {
      const [{ type, v }] = events;
      const shape = events.map((event) => shapeOf(event.data)).reduce(mergeShapes);
      const file = fixtureFile(type, v);
      const recorded = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as EventFixture) : undefined;
      if (UPDATE && !isDeepStrictEqual(recorded?.shape, shape)) {
        writeFileSync(
          file,
          `${JSON.stringify({ type, v, example: events[0].data, shape } satisfies EventFixture, null, 2)}\n`,
        );
      }
      if (!existsSync(file)) {
        missing.push(key);
        continue;
      }
      const fixture = JSON.parse(readFileSync(file, 'utf8')) as EventFixture;
      // A failure here means the payload changed shape: bump `v` and add an upcaster from the old version.
      expect({ event: key, shape }).toEqual({ event: key, shape: fixture.shape });
    }
    expect(missing).toEqual([]);
  });

  it('covers the event types that make up a project, an account and a deployment', () => {
    const types = new Set([...emitted.values()].map(([event]) => event.type));
    for (const type of [
      'UserRegistered',
      'ApiTokenIssued',
      'ApiTokenRevoked',
      'ProjectCreated',
      'LabelAdded',
      'TrainingConfigured',
      'ProjectDeleted',
      'ImageUploaded',
      'ImageLabeled',
      'ImageRegionsSet',
      'ImageLabelsSet',
      'ImageRemoved',
      'IterationQueued',
      'IterationStarted',
      'IterationCompleted',
      'IterationCancelled',
      'IterationHandedBack',
      'TestRunRequested',
      'TestRunCompleted',
      'ModelDeployed',
      'DeploymentKeyRotated',
      'ModelUndeployed',
      'ModelImported',
      'IterationRenamed',
      'IterationDeleted',
      'ImageMetadataSet',
      'PredictionStoreConfigured',
      'PredictionStored',
      'StoredPredictionPromoted',
      'DeploymentShared',
      'DeploymentUnshared',
    ]) {
      expect(types).toContain(type);
    }
  });

  it('has a fixture for every event type the code declares, at its newest version', () => {
    const fixtures = new Set(readdirSync(FIXTURES));
    const declared = [...DECLARED_EVENT_VERSIONS].map(([type, v]) => `${type}.v${v}.json`);
    // A new event type (or version) must be emitted by the journey above, which then writes its fixture.
    expect(declared.filter((file) => !fixtures.has(file))).toEqual([]);
  });

  it('keeps no current fixture for a version nothing emits any more (old versions go beside their upcaster tests)', () => {
    const fixtures = readdirSync(FIXTURES).map((file) => file.replace(/\.json$/, ''));
    expect(fixtures.filter((fixture) => !emitted.has(fixture))).toEqual([]);
  });
});
