import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { colourPicture, type LabelColour, MULTILABEL_TRAINING_CONFIG } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

// An iteration trained before a project switched classification ↔ multilabel, used after the switch.
// Eight pictures of each colour, learnt at the faster rate this spec was written for.
const TRAINING_CONFIG = { ...MULTILABEL_TRAINING_CONFIG, learningRate: 0.01 };

describe('training from an iteration of the type a project had before its switch', () => {
  let testApp: TestApp;
  let client: ApiClient;

  const as = <T extends { set(name: string, value: string): T }>(request: T) =>
    request.set('Authorization', client.auth);

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  }, 60_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  async function upload(projectId: string, colours: LabelColour[], count: number, seed: number) {
    const files = await Promise.all(Array.from({ length: count }, (_, index) => colourPicture(colours, seed + index)));
    const fields = colours.length === 1 ? { label: colours[0] } : { labels: JSON.stringify(colours) };
    return client.upload(projectId, files, fields, colours.join('-'));
  }

  async function predict(projectId: string, iterationId: string, colours: LabelColour[]) {
    const deployment = await as(client.http.post(`/v1/projects/${projectId}/deployments`))
      .send({ iterationId })
      .expect(201);
    const prediction = await testApp.http
      .post(`/v1/predict/${deployment.body.id}`)
      .set('Content-Type', 'image/png')
      .set('X-Api-Key', deployment.body.apiKey)
      .send(await colourPicture(colours, 5000))
      .expect(200);
    return Object.fromEntries(
      (prediction.body.predictions as { label: string; probability: number }[]).map((p) => [p.label, p.probability]),
    );
  }

  it('builds a multilabel model on a classification iteration, reproduces that iteration as it was, and refuses fine-tuning it', async () => {
    const project = await client.createProject('classification', ['red', 'green', 'blue']);
    for (const [index, colour] of (['red', 'green', 'blue'] as const).entries())
      await upload(project.id, [colour], 8, index * 100);
    const base = await client.waitForIteration(project.id, (await client.train(project.id, TRAINING_CONFIG)).id);
    expect(base.status).toBe('completed');
    await as(client.http.patch(`/v1/projects/${project.id}`))
      .send({ type: 'multilabel' })
      .expect(200);
    await upload(project.id, ['red', 'green'], 8, 1000);

    // The old model gives its features; the new head is multilabel, so a picture may get several labels.
    const transfer = await client.waitForIteration(
      project.id,
      (
        await client.train(project.id, {
          ...TRAINING_CONFIG,
          architecture: 'transfer',
          baseIterationId: base.id,
        })
      ).id,
    );
    expect(transfer).toMatchObject({ status: 'completed', baseModelSha256: base.model.sha256 });
    expect(transfer.metrics).toMatchObject({ exactMatch: expect.any(Number), map: expect.any(Number) });
    expect((await predict(project.id, transfer.id, ['red'])).red).toBeGreaterThan(0.5);

    const refused = await as(client.http.post(`/v1/projects/${project.id}/iterations`))
      .send({ trainingConfig: { architecture: 'backbone-classifier', baseIterationId: base.id, fineTune: 1 } })
      .expect(422);
    expect(refused.body.code).toBe('FINE_TUNE_UNSUPPORTED');

    // A reproduction repeats the classification run (its frozen dataset, configuration and seed) bit for bit.
    const reproducing = await as(client.http.post(`/v1/projects/${project.id}/iterations/${base.id}/reproduce`))
      .send()
      .expect(202);
    const reproduced = await client.waitForIteration(project.id, reproducing.body.id);
    expect(reproduced).toMatchObject({ status: 'completed', reproduction: { sameMetrics: true, sameModel: true } });
    expect(reproduced.metrics.accuracy).toBe(base.metrics.accuracy);
    expect((await predict(project.id, reproduced.id, ['red'])).red).toBeGreaterThan(0.5);
  }, 240_000);
});
