import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import {
  hdf5NotAModel,
  keras2Sequential,
  keras2WeightsOnly,
  keras3Functional,
  keras3WithLambda,
} from './fixtures/keras/keras-fixtures.js';

/**
 * Keras cannot be installed here, so the model files are built by test/fixtures/keras/keras-fixtures.ts from the
 * formats' documented layouts (Keras 2's HDF5 `.h5`, Keras 3's `.keras` zip), written with h5wasm. Each model
 * tells red from blue images with a 1×1 convolution, pooling and a softmax layer.
 */
describe('Keras model import over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  let unseen: { red: Buffer[]; blue: Buffer[] };

  const importModel = (projectId: string, bytes: Uint8Array, filename: string, fields: Record<string, string> = {}) => {
    let request = client.http
      .post(`/v1/projects/${projectId}/models`)
      .set('Authorization', client.auth)
      .attach('model', Buffer.from(bytes), filename);
    for (const [name, value] of Object.entries(fields)) request = request.field(name, value);
    return request;
  };

  /** Deploys the iteration and returns the top label the deployment predicts for each image. */
  async function deployedTopLabels(iterationId: string, images: Buffer[]): Promise<string[]> {
    const deployment = await client.http
      .post(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId })
      .expect(201);
    const labels: string[] = [];
    for (const image of images) {
      const response = await client.http
        .post(`/v1/predict/${deployment.body.id}`)
        .set('X-Api-Key', deployment.body.apiKey)
        .set('Content-Type', 'image/png')
        .send(image)
        .expect(200);
      labels.push(response.body.predictions[0].label);
    }
    return labels;
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    project = await client.createProject('classification', ['red', 'blue'], 'keras');
    unseen = { red: await colouredSquares(RED, 3, 11), blue: await colouredSquares(BLUE, 3, 12) };
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('imports a Keras 2 .h5 Sequential model with its class list, and the deployment predicts with it', async () => {
    const imported = await importModel(project.id, await keras2Sequential(), 'red-blue.h5', {
      labels: 'red,blue',
      inputRange: '0,1',
    });
    expect(imported.status).toBe(201);
    // Not trained here: no training configuration, like its seed and image count.
    expect(imported.body).toMatchObject({
      status: 'completed',
      imported: true,
      architecture: 'imported',
      trainingConfig: null,
      seed: null,
    });
    expect(await deployedTopLabels(imported.body.id, [...unseen.red, ...unseen.blue])).toEqual([
      'red',
      'red',
      'red',
      'blue',
      'blue',
      'blue',
    ]);

    const history = await client.http
      .get(`/v1/projects/${project.id}/history?limit=1000`)
      .set('Authorization', client.auth)
      .expect(200);
    const recorded = history.body.items.find(
      (item: { type: string; data: { iterationId: string } }) =>
        item.type === 'ModelImported' && item.data.iterationId === imported.body.id,
    );
    expect(recorded).toMatchObject({ v: 1, data: { format: 'keras-h5', architecture: 'imported' } });
    expect(recorded.data.labels.map((label: { name: string }) => label.name)).toEqual(['red', 'blue']);
  });

  it('imports a Keras 3 .keras functional model (rescaling and batch normalization inside) and trains a transfer model on it', async () => {
    const imported = await importModel(project.id, await keras3Functional(), 'blue-red.keras', {
      labels: '["blue", "red"]',
    });
    expect(imported.status).toBe(201);
    // The model rescales pixels itself: it is given [0, 255], the default input range of a Keras import.
    expect(await deployedTopLabels(imported.body.id, [...unseen.red, ...unseen.blue])).toEqual([
      'red',
      'red',
      'red',
      'blue',
      'blue',
      'blue',
    ]);

    await client.upload(project.id, await colouredSquares(RED, 8, 1), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 8, 2), { label: 'blue' }, 'blue');
    const queued = await client.train(project.id, {
      architecture: 'transfer',
      baseIterationId: imported.body.id,
      epochs: 40,
      batchSize: 8,
      learningRate: 0.2,
      seed: 3,
    });
    const transfer = await client.waitForIteration(project.id, queued.id);
    expect(transfer.status).toBe('completed');
    expect(await deployedTopLabels(transfer.id, [...unseen.red, ...unseen.blue])).toEqual([
      'red',
      'red',
      'red',
      'blue',
      'blue',
      'blue',
    ]);
  }, 60_000);

  it('refuses Keras files it cannot run with a 400 naming why, and records nothing', async () => {
    const target = await client.createProject('classification', ['red', 'blue'], 'refusals');

    const lambda = await importModel(target.id, await keras3WithLambda(), 'lambda.keras', { labels: 'red,blue' });
    expect(lambda.status).toBe(400);
    expect(lambda.body.code).toBe('KERAS_UNSUPPORTED_LAYER');
    expect(lambda.body.message).toContain('Lambda layer ("lambda")');
    expect(lambda.body.details).toMatchObject({ layerType: 'Lambda', layerName: 'lambda' });

    const measurements = await importModel(target.id, await hdf5NotAModel(), 'measurements.h5', { labels: 'red,blue' });
    expect(measurements.status).toBe(400);
    expect(measurements.body.code).toBe('KERAS_NOT_A_MODEL');

    const weightsOnly = await importModel(target.id, await keras2WeightsOnly(), 'weights.h5', { labels: 'red,blue' });
    expect(weightsOnly.status).toBe(400);
    expect(weightsOnly.body).toMatchObject({
      code: 'KERAS_NOT_A_MODEL',
      message: expect.stringContaining('weights only'),
    });

    const unlabeled = await importModel(target.id, await keras2Sequential(), 'red-blue.h5');
    expect(unlabeled.status).toBe(400);
    expect(unlabeled.body).toMatchObject({
      code: 'MODEL_LABELS_MISSING',
      message: expect.stringContaining('"labels"'),
    });

    const badRange = await importModel(target.id, await keras2Sequential(), 'red-blue.h5', {
      labels: 'red,blue',
      inputRange: '255,0',
    });
    expect(badRange.status).toBe(400);
    expect(badRange.body.code).toBe('INVALID_INPUT_RANGE');

    const unknownLabel = await importModel(target.id, await keras2Sequential(), 'red-blue.h5', { labels: 'red,green' });
    expect(unknownLabel.status).toBe(400);
    expect(unknownLabel.body).toMatchObject({ code: 'UNKNOWN_MODEL_LABELS', details: { unknownLabels: ['green'] } });

    const iterations = await client.http
      .get(`/v1/projects/${target.id}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(iterations.body.items).toEqual([]);
    // Seven imports, each loading a model to check it: 30 s was not enough at load 20 on 2 cores.
  }, 90_000);
});
