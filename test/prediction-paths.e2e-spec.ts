import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import sharp from 'sharp';
import { ApiClient } from './support/api-client.js';
import { deployedTinyModel } from './support/deployed-tiny-model.js';
import { colouredSquares, RED } from './support/generated-images.js';
import { sdkClients } from './support/custom-vision-sdk.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

vi.setConfig({ testTimeout: 60_000 });

/** A 320x240 photo as HEIC, stored sideways with the rotation that shows it upright. */
const HEIC_TURNED = readFileSync(new URL('./fixtures/photo-turned.heic', import.meta.url));

/**
 * One photo asked about through the prediction paths a user has: the stored prediction keeps the same picture and
 * the same meaning whichever path answered it.
 */
describe('the same photo on every prediction path', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let sdk: Awaited<ReturnType<typeof sdkClients>>;

  beforeAll(async () => {
    testApp = await startTestApp();
    await testApp.app.listen(0, '127.0.0.1');
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    sdk = await sdkClients(testApp, client.auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  async function storingDeployment(labels: string[], name: string) {
    const deployed = await deployedTinyModel(client, labels, name);
    await testApp.http
      .put(`/v1/projects/${deployed.project.id}/deployments/${deployed.deployment.id}/prediction-store`)
      .set('Authorization', client.auth)
      .send({ enabled: true })
      .expect(200);
    return deployed;
  }

  const storedImage = (projectId: string, predictionId: string) =>
    testApp.http
      .get(`/v1/projects/${projectId}/predictions/${predictionId}/image`)
      .set('Authorization', client.auth)
      .buffer(true)
      .expect(200);

  it('a HEIC photo sent to Custom Vision is kept as the upright JPEG predicted on, as /v1/predict keeps it', async () => {
    const { project, deployment } = await storingDeployment(['red', 'blue'], 'heic-paths');
    const native = await testApp.http
      .post(`/v1/predict/${deployment.id}`)
      .set('X-Api-Key', deployment.apiKey)
      .set('Content-Type', 'image/heic')
      .send(HEIC_TURNED)
      .expect(200);
    const customVision = await testApp.http
      .post(`/customvision/v3.0/Prediction/${project.id}/classify/iterations/${deployment.name}/image`)
      .set('Prediction-Key', deployment.apiKey)
      .set('Content-Type', 'application/octet-stream')
      .send(HEIC_TURNED)
      .expect(200);
    expect(
      customVision.body.predictions.map((p: { tagName: string; probability: number }) => [p.tagName, p.probability]),
    ).toEqual(native.body.predictions.map((p: { label: string; probability: number }) => [p.label, p.probability]));

    const nativeKept = await storedImage(project.id, native.body.storedPredictionId);
    const customVisionKept = await storedImage(project.id, customVision.body.id);
    expect(customVisionKept.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(customVisionKept.body as Buffer).metadata()).toMatchObject({ width: 320, height: 240 });
    expect(Buffer.compare(customVisionKept.body as Buffer, nativeKept.body as Buffer)).toBe(0);
  });

  /** The owner swaps the names of two labels: the model's outputs still mean the labels they were trained on, by id. */
  async function swapNames(
    projectId: string,
    first: { id: string; name: string },
    second: { id: string; name: string },
  ) {
    const rename = (labelId: string, name: string) =>
      testApp.http
        .patch(`/v1/projects/${projectId}/labels/${labelId}`)
        .set('Authorization', client.auth)
        .send({ name })
        .expect(200);
    await rename(first.id, 'swapping');
    await rename(second.id, first.name);
    await rename(first.id, second.name);
  }

  it('QueryPredictions after a tag rename answers the tag ids the prediction answered, and filters by them', async () => {
    const { project } = await storingDeployment(['red', 'blue'], 'query-renamed');
    const [photo] = await colouredSquares(RED, 1, 41);
    const answered = await sdk.predictor.classifyImage(project.id, 'query-renamed', photo);
    const answeredTags = answered.predictions!.map((p) => [p.tagId, p.probability]);
    expect(answeredTags.map(([tagId]) => tagId).sort()).toEqual(Object.values(project.labels).sort());
    await swapNames(project.id, { id: project.labels.red, name: 'red' }, { id: project.labels.blue, name: 'blue' });

    const all = await sdk.trainer.queryPredictions(project.id, {});
    expect(all.results!.map((result) => result.id)).toEqual([answered.id]);
    expect(all.results![0].predictions!.map((p) => [p.tagId, p.probability])).toEqual(answeredTags);
    const red = answered.predictions!.find((p) => p.tagId === project.labels.red)!;
    const byRed = await sdk.trainer.queryPredictions(project.id, {
      tags: [{ id: project.labels.red, minThreshold: red.probability!, maxThreshold: 1 }],
    });
    expect(byRed.results!.map((result) => result.id)).toEqual([answered.id]);
  });

  it('lists stored predictions by a label as it is named now (or its id), after its name was swapped with another', async () => {
    const { project, deployment } = await storingDeployment(['red', 'blue'], 'list-renamed');
    const [photo] = await colouredSquares(RED, 1, 61);
    const answered = await testApp.http
      .post(`/v1/predict/${deployment.id}`)
      .set('X-Api-Key', deployment.apiKey)
      .set('Content-Type', 'image/png')
      .send(photo)
      .expect(200);
    const [top, second] = answered.body.predictions as { label: string; probability: number }[];
    await swapNames(
      project.id,
      { id: project.labels[top.label], name: top.label },
      { id: project.labels[second.label], name: second.label },
    );
    const listed = async (query: Record<string, string | number>) =>
      (
        await testApp.http
          .get(`/v1/projects/${project.id}/predictions`)
          .query(query)
          .set('Authorization', client.auth)
          .expect(200)
      ).body.items.map((item: { id: string }) => item.id);
    const stored = [answered.body.storedPredictionId];
    // The top label is now called second.label: its probability is the top one.
    expect(await listed({ label: second.label, minProbability: top.probability })).toEqual(stored);
    expect(await listed({ label: top.label, minProbability: top.probability })).toEqual([]);
    expect(await listed({ label: project.labels[top.label], minProbability: top.probability })).toEqual(stored);
    // Each prediction says which label of the project it is, by id, for a correction to name it unambiguously.
    const one = await testApp.http
      .get(`/v1/projects/${project.id}/predictions/${answered.body.storedPredictionId}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(one.body.predictions).toEqual([
      { label: top.label, labelId: project.labels[top.label], probability: top.probability },
      { label: second.label, labelId: project.labels[second.label], probability: second.probability },
    ]);
  });

  it("promoting a stored prediction after its labels' names were swapped labels the image with the label the model meant", async () => {
    const { project, deployment } = await storingDeployment(['red', 'blue'], 'renamed');
    const [photo] = await colouredSquares(RED, 1, 31);
    const answered = await testApp.http
      .post(`/v1/predict/${deployment.id}`)
      .set('X-Api-Key', deployment.apiKey)
      .set('Content-Type', 'image/png')
      .send(photo)
      .expect(200);
    const predicted: string = answered.body.predictions[0].label;
    const other = predicted === 'red' ? 'blue' : 'red';
    await swapNames(
      project.id,
      { id: project.labels[predicted], name: predicted },
      { id: project.labels[other], name: other },
    );

    const promoted = await testApp.http
      .post(`/v1/projects/${project.id}/predictions/promote`)
      .set('Authorization', client.auth)
      .send({ items: [{ predictionId: answered.body.storedPredictionId }] })
      .expect(200);
    expect(promoted.body.items[0].status).toBe('created');
    const image = await testApp.http
      .get(`/v1/projects/${project.id}/images/${promoted.body.items[0].imageId}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(image.body.label).toEqual(expect.objectContaining({ id: project.labels[predicted], name: other }));
  });
});
