import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { ModelCache } from '@diyml/deployments';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const FAST = {
  imageSize: 16,
  epochs: 15,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};
/** Low limits for this app only, so the 413 and 429 answers are cheap to reach. */
const LIMITS = { PREDICT_MAX_IMAGE_BYTES: '20000', PREDICT_RATE_LIMIT: '20', PREDICT_RATE_WINDOW_SECONDS: '60' };

type Prediction = { label: string; probability: number };

function binary(request: ReturnType<TestApp['http']['get']>) {
  return request.buffer(true).parse((response, done) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => done(null, Buffer.concat(chunks)));
  });
}

describe('deployments and predictions over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  let iterationId: string;
  let unseenRed: Buffer[];
  let unseenBlue: Buffer[];

  const predict = (deploymentId: string, key: string | undefined, image: Buffer, query = '') => {
    let request = testApp.http.post(`/v1/predict/${deploymentId}${query}`).set('Content-Type', 'image/png');
    if (key) request = request.set('X-Api-Key', key);
    return request.send(image);
  };
  const deploy = (projectId: string, body: Record<string, unknown>, auth = client.auth) =>
    testApp.http.post(`/v1/projects/${projectId}/deployments`).set('Authorization', auth).send(body);

  beforeAll(async () => {
    Object.assign(process.env, LIMITS);
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    project = await client.createProject('classification', ['red', 'blue']);
    await client.upload(project.id, await colouredSquares(RED, 12, 1), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 12, 2), { label: 'blue' }, 'blue');
    await client.configureTraining(project.id, FAST);
    const queued = await client.train(project.id);
    const iteration = await client.waitForIteration(project.id, queued.id);
    expect(iteration.status).toBe('completed');
    iterationId = queued.id;
    unseenRed = await colouredSquares(RED, 4, 101);
    unseenBlue = await colouredSquares(BLUE, 4, 102);
  }, 120_000);
  afterAll(async () => {
    for (const name of Object.keys(LIMITS)) delete process.env[name];
    await testApp.destroy();
  });

  it('refuses to deploy an unknown iteration (404) or one that did not complete (409)', async () => {
    const unknown = await deploy(project.id, { iterationId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('ITERATION_NOT_FOUND');

    const queued = await client.train(project.id, { ...FAST, epochs: 200 });
    await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/cancel`)
      .set('Authorization', client.auth)
      .expect(200);
    const cancelled = await deploy(project.id, { iterationId: queued.id });
    expect(cancelled.status).toBe(409);
    expect(cancelled.body.code).toBe('ITERATION_NOT_COMPLETED');

    const invalid = await deploy(project.id, { iterationId: 'nope', name: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      message:
        'The request has 2 invalid fields. iterationId must be a UUID. name must be longer than or equal to 1 characters.',
      details: [
        { field: 'iterationId', errors: ['iterationId must be a UUID'] },
        { field: 'name', errors: ['name must be longer than or equal to 1 characters'] },
      ],
    });
  });

  it('deploys, predicts the right label first on images the model never saw, rotates the key and undeploys', async () => {
    const created = await deploy(project.id, { iterationId, name: 'production' });
    expect(created.status).toBe(201);
    const deployment = created.body;
    expect(deployment).toMatchObject({
      iterationId,
      name: 'production',
      endpoint: `/v1/predict/${deployment.id}`,
      status: 'active',
    });
    expect(deployment.apiKey).toMatch(/^dpk_[A-Za-z0-9_-]{43}$/);
    expect(deployment.apiKey.startsWith(deployment.keyPrefix)).toBe(true);

    const listed = await client.http
      .get(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .expect(200);
    const entry = listed.body.items.find((item: { id: string }) => item.id === deployment.id);
    expect(entry).toMatchObject({ keyPrefix: deployment.keyPrefix, iterationNumber: 1 });
    expect(JSON.stringify(listed.body)).not.toContain(deployment.apiKey);
    const one = await client.http
      .get(`/v1/projects/${project.id}/deployments/${deployment.id}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(one.body.apiKey).toBeUndefined();

    for (const [images, label] of [
      [unseenRed, 'red'],
      [unseenBlue, 'blue'],
    ] as const) {
      for (const image of images) {
        const response = await predict(deployment.id, deployment.apiKey, image);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ deploymentId: deployment.id, iterationId });
        const predictions = response.body.predictions as Prediction[];
        expect(predictions.map((p) => p.label).sort()).toEqual(['blue', 'red']);
        expect(predictions[0].label).toBe(label);
        expect(predictions[0].probability).toBeGreaterThanOrEqual(predictions[1].probability);
      }
    }

    // Multipart, the Prediction-Key header, and the threshold and maxResults options.
    const multipart = await testApp.http
      .post(`/v1/predict/${deployment.id}?maxResults=1`)
      .set('Prediction-Key', deployment.apiKey)
      .attach('image', unseenRed[0], 'red.png');
    expect(multipart.status).toBe(200);
    expect(multipart.body.predictions).toHaveLength(1);
    expect(multipart.body.predictions[0].label).toBe('red');
    const strict = await predict(deployment.id, deployment.apiKey, unseenBlue[0], '?threshold=1');
    expect(strict.status).toBe(200);
    expect(strict.body.predictions.length).toBeLessThanOrEqual(1);

    const rotated = await client.http
      .post(`/v1/projects/${project.id}/deployments/${deployment.id}/rotate-key`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(rotated.body.apiKey).not.toBe(deployment.apiKey);
    const old = await predict(deployment.id, deployment.apiKey, unseenRed[1]);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('INVALID_API_KEY');
    const fresh = await predict(deployment.id, rotated.body.apiKey, unseenRed[1]);
    expect(fresh.status).toBe(200);
    expect(fresh.body.predictions[0].label).toBe('red');

    const modelSha256 = (await client.iteration(project.id, iterationId)).model.sha256 as string;
    expect(testApp.app.get(ModelCache).has(modelSha256)).toBe(true);
    await client.http
      .delete(`/v1/projects/${project.id}/deployments/${deployment.id}`)
      .set('Authorization', client.auth)
      .expect(204);
    // No other deployment serves the model: it is unloaded.
    expect(testApp.app.get(ModelCache).has(modelSha256)).toBe(false);
    const gone = await predict(deployment.id, rotated.body.apiKey, unseenRed[1]);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('DEPLOYMENT_NOT_FOUND');
    await client.http
      .get(`/v1/projects/${project.id}/deployments/${deployment.id}`)
      .set('Authorization', client.auth)
      .expect(404);
    await client.http
      .delete(`/v1/projects/${project.id}/deployments/${deployment.id}`)
      .set('Authorization', client.auth)
      .expect(404);
    const after = await client.http
      .get(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(after.body.items.map((item: { id: string }) => item.id)).not.toContain(deployment.id);
  });

  it('refuses a second active deployment named like another (409 DEPLOYMENT_NAME_TAKEN), and frees the name on undeploy', async () => {
    const first = await deploy(project.id, { iterationId, name: 'staging' });
    expect(first.status).toBe(201);
    const second = await deploy(project.id, { iterationId, name: 'staging' });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      code: 'DEPLOYMENT_NAME_TAKEN',
      message:
        'The project already has an active deployment named "staging": choose another name, or undeploy that deployment first.',
      details: { name: 'staging' },
    });
    await client.http
      .delete(`/v1/projects/${project.id}/deployments/${first.body.id}`)
      .set('Authorization', client.auth)
      .expect(204);
    const again = await deploy(project.id, { iterationId, name: 'staging' });
    expect(again.status).toBe(201);
    await client.http
      .delete(`/v1/projects/${project.id}/deployments/${again.body.id}`)
      .set('Authorization', client.auth)
      .expect(204);
  });

  it('answers bad prediction requests with 400, 401, 404, 413 and 415', async () => {
    const { body: deployment } = await deploy(project.id, { iterationId });
    const image = unseenBlue[0];

    const noKey = await predict(deployment.id, undefined, image);
    expect(noKey.status).toBe(401);
    expect(noKey.body.code).toBe('INVALID_API_KEY');
    const wrongKey = await predict(deployment.id, 'dpk_' + 'x'.repeat(43), image);
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body.code).toBe('INVALID_API_KEY');
    const unknown = await predict('00000000-0000-4000-8000-000000000000', deployment.apiKey, image);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('DEPLOYMENT_NOT_FOUND');
    expect((await predict('not-a-uuid', deployment.apiKey, image)).status).toBe(400);

    const text = await testApp.http
      .post(`/v1/predict/${deployment.id}`)
      .set('X-Api-Key', deployment.apiKey)
      .set('Content-Type', 'text/plain')
      .send('a red square, honestly');
    expect(text.status).toBe(415);
    expect(text.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    const garbage = await predict(deployment.id, deployment.apiKey, Buffer.from('definitely not a png, just bytes'));
    expect(garbage.status).toBe(400);
    expect(garbage.body.code).toBe('INVALID_IMAGE');
    const truncated = await predict(deployment.id, deployment.apiKey, image.subarray(0, Math.floor(image.length / 2)));
    expect(truncated.status).toBe(400);
    expect(truncated.body.code).toBe('INVALID_IMAGE');

    const large = await predict(deployment.id, deployment.apiKey, Buffer.concat([image, Buffer.alloc(30_000)]));
    expect(large.status).toBe(413);
    expect(large.body.code).toBe('IMAGE_TOO_LARGE');
    const noFile = await testApp.http
      .post(`/v1/predict/${deployment.id}`)
      .set('X-Api-Key', deployment.apiKey)
      .field('other', 'x');
    expect(noFile.status).toBe(400);
    expect(noFile.body.code).toBe('IMAGE_REQUIRED');
  });

  it('throttles predictions per API key with 429 TOO_MANY_REQUESTS', async () => {
    const { body: throttled } = await deploy(project.id, { iterationId });
    const { body: other } = await deploy(project.id, { iterationId });
    for (let i = 0; i < 20; i += 1)
      expect((await predict(throttled.id, throttled.apiKey, unseenRed[0])).status).toBe(200);
    const limited = await predict(throttled.id, throttled.apiKey, unseenRed[0]);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_REQUESTS' });
    expect(Number(limited.headers['retry-after-predict'])).toBeGreaterThan(0);
    // Another key is counted on its own.
    expect((await predict(other.id, other.apiKey, unseenRed[0])).status).toBe(200);
  });

  it("keeps another user's deployments and iterations out of reach", async () => {
    const { body: deployment } = await deploy(project.id, { iterationId });
    const stranger = await registerAndLogIn(testApp);
    const theirs = await client.createProject('classification', ['red', 'blue'], 'theirs');
    expect((await deploy(project.id, { iterationId }, stranger.auth)).status).toBe(404);
    expect(
      (
        await client.http
          .get(`/v1/projects/${project.id}/deployments/${deployment.id}`)
          .set('Authorization', stranger.auth)
      ).status,
    ).toBe(404);
    expect(
      (
        await client.http
          .post(`/v1/projects/${project.id}/deployments/${deployment.id}/rotate-key`)
          .set('Authorization', stranger.auth)
      ).status,
    ).toBe(404);
    // An iteration of one project cannot be deployed from another.
    const crossProject = await deploy(theirs.id, { iterationId });
    expect(crossProject.status).toBe(404);
    expect(crossProject.body.code).toBe('ITERATION_NOT_FOUND');
  });

  it('exports a model, imports it into another project by label names, deploys it and predicts the same', async () => {
    const exported = await binary(
      client.http.get(`/v1/projects/${project.id}/iterations/${iterationId}/model`).set('Authorization', client.auth),
    ).expect(200);
    const zip = exported.body as Buffer;

    // The other project lists its labels in another order: they are matched by name.
    const other = await client.createProject('classification', ['blue', 'red'], 'imported');
    const imported = await client.http
      .post(`/v1/projects/${other.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', zip, 'model.zip');
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({
      projectId: other.id,
      number: 1,
      status: 'completed',
      imported: true,
      architecture: 'small-cnn',
    });
    const listed = await client.iteration(other.id, imported.body.id);
    expect(listed.model.sha256).toMatch(/^[0-9a-f]{64}$/);

    const original = (await deploy(project.id, { iterationId })).body;
    const copy = (await deploy(other.id, { iterationId: imported.body.id })).body;
    for (const image of [...unseenRed.slice(0, 2), ...unseenBlue.slice(0, 2)]) {
      const a = (await predict(original.id, original.apiKey, image).expect(200)).body.predictions as Prediction[];
      const b = (await predict(copy.id, copy.apiKey, image).expect(200)).body.predictions as Prediction[];
      expect(b.map((p) => p.label)).toEqual(a.map((p) => p.label));
      b.forEach((p, i) => expect(p.probability).toBeCloseTo(a[i].probability, 5));
    }

    // The imported iteration's model exports as it was imported.
    const again = await binary(
      client.http
        .get(`/v1/projects/${other.id}/iterations/${imported.body.id}/model`)
        .set('Authorization', client.auth),
    ).expect(200);
    expect(Buffer.compare(again.body as Buffer, zip)).toBe(0);
  });

  it('imports a Teachable Machine image-model export', async () => {
    const exported = await binary(
      client.http.get(`/v1/projects/${project.id}/iterations/${iterationId}/model`).set('Authorization', client.auth),
    ).expect(200);
    const files = unzipSync(new Uint8Array(exported.body as Buffer));
    const modelJson = JSON.parse(strFromU8(files['model.json']));
    delete modelJson.userDefinedMetadata;
    const teachable = zipSync({
      'model.json': strToU8(JSON.stringify(modelJson)),
      'weights.bin': files['weights.bin'],
      'metadata.json': strToU8(
        JSON.stringify({
          tfjsVersion: '1.3.1',
          packageName: '@teachablemachine/image',
          packageVersion: '0.8.3',
          labels: ['Red', 'Blue'],
          imageSize: 16,
        }),
      ),
    });
    const target = await client.createProject('classification', ['red', 'blue', 'green'], 'teachable');
    const imported = await client.http
      .post(`/v1/projects/${target.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', Buffer.from(teachable), 'converted_model.zip');
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ status: 'completed', imported: true, architecture: 'imported' });
    const deployment = (await deploy(target.id, { iterationId: imported.body.id })).body;
    const response = await predict(deployment.id, deployment.apiKey, unseenRed[0]).expect(200);
    expect((response.body.predictions as Prediction[]).map((p) => p.label).sort()).toEqual(['blue', 'red']);
  });

  it('refuses model archives it cannot use, naming why', async () => {
    const exported = await binary(
      client.http.get(`/v1/projects/${project.id}/iterations/${iterationId}/model`).set('Authorization', client.auth),
    ).expect(200);
    const upload = (projectId: string, bytes: Buffer) =>
      client.http
        .post(`/v1/projects/${projectId}/models`)
        .set('Authorization', client.auth)
        .attach('model', bytes, 'model.zip');

    const missingLabel = await client.createProject('classification', ['red'], 'one label');
    const unknown = await upload(missingLabel.id, exported.body as Buffer);
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe('UNKNOWN_MODEL_LABELS');
    expect(unknown.body.details.unknownLabels).toEqual(['blue']);

    const detection = await client.createProject('detection', ['red', 'blue'], 'detector');
    const mismatch = await upload(detection.id, exported.body as Buffer);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.code).toBe('MODEL_TASK_MISMATCH');

    const garbage = await upload(missingLabel.id, Buffer.from('not a zip at all'));
    expect(garbage.status).toBe(400);
    expect(garbage.body.code).toBe('INVALID_MODEL_ARCHIVE');

    const none = await client.http
      .post(`/v1/projects/${missingLabel.id}/models`)
      .set('Authorization', client.auth)
      .field('x', 'y');
    expect(none.status).toBe(400);
    expect(none.body.code).toBe('MODEL_REQUIRED');

    const iterations = await client.http
      .get(`/v1/projects/${missingLabel.id}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(iterations.body.items).toEqual([]);
  });
});
