import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PredictionAPIClient } from '@azure/cognitiveservices-customvision-prediction';
import { TrainingAPIClient } from '@azure/cognitiveservices-customvision-training';
import { ApiKeyCredentials } from '@azure/ms-rest-js';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BlobStore } from '@diyml/blobs';
import { ApiClient } from './support/api-client.js';
import { deployedTinyModel } from './support/deployed-tiny-model.js';
import { BLUE, colouredSquares, RED, squareScenes } from './support/generated-images.js';
import { expectReplayEqual } from './support/replay-equal.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { modelZip, tinyDetector } from './support/tiny-models.js';

vi.setConfig({ testTimeout: 60_000 });

type Stored = {
  id: string;
  predictions: { label: string; probability: number }[];
  storedAt: string;
  imageUrl: string;
  promotedImageId: string | null;
};

describe('prediction store over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  let deployment: { id: string; apiKey: string };
  let images: Buffer[];

  const predict = (image: Buffer, key = deployment.apiKey) =>
    testApp.http
      .post(`/v1/predict/${deployment.id}`)
      .set('Content-Type', 'image/png')
      .set('X-Api-Key', key)
      .send(image);
  const list = (query = '', auth = client.auth) =>
    testApp.http.get(`/v1/projects/${project.id}/predictions${query}`).set('Authorization', auth);
  const configure = (body: Record<string, unknown>) =>
    testApp.http
      .put(`/v1/projects/${project.id}/deployments/${deployment.id}/prediction-store`)
      .set('Authorization', client.auth)
      .send(body);

  /** Whether the picture's bytes are still kept (blobs are addressed by the sha256 of their bytes). */
  const pictureKept = (image: Buffer) =>
    testApp.app.get(BlobStore).has(createHash('sha256').update(image).digest('hex'));
  async function eventuallyKept(image: Buffer, expected: boolean): Promise<boolean> {
    const deadline = Date.now() + 10_000;
    while ((await pictureKept(image)) !== expected && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    return pictureKept(image);
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    ({ project, deployment } = await deployedTinyModel(client, ['red', 'blue'], 'store'));
    images = [...(await colouredSquares(RED, 3, 11)), ...(await colouredSquares(BLUE, 3, 12))];
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('stores nothing until the owner turns the store on; then keeps image and answer of each prediction', async () => {
    expect((await predict(images[0])).body.storedPredictionId).toBeUndefined();
    expect((await list()).body.items).toEqual([]);

    const on = await configure({ enabled: true, maxCount: 4 });
    expect(on.status).toBe(200);
    expect(on.body).toEqual({ enabled: true, maxCount: 4, maxAgeDays: null });

    const answered = await predict(images[1]);
    expect(answered.status).toBe(200);
    expect(answered.body.storedPredictionId).toMatch(/^[0-9a-f-]{36}$/);
    const page = await list();
    expect(page.body.items).toHaveLength(1);
    const stored: Stored = page.body.items[0];
    expect(stored).toMatchObject({
      id: answered.body.storedPredictionId,
      deploymentId: deployment.id,
      predictions: answered.body.predictions,
      promotedImageId: null,
    });
    const image = await testApp.http.get(stored.imageUrl).set('Authorization', client.auth).buffer(true);
    expect(image.status).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(Buffer.compare(image.body as Buffer, images[1])).toBe(0);
  });

  it('keeps at most maxCount predictions, the newest, and filters by label, probability and time with cursor pages', async () => {
    const answers = [];
    for (const image of images) answers.push((await predict(image)).body);
    // The count limit is applied right after each store, off the request.
    const deadline = Date.now() + 5000;
    let items: Stored[] = [];
    while (Date.now() < deadline) {
      items = (await list('?limit=100')).body.items;
      if (items.length === 4) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(items.map((item) => item.id)).toEqual(
      answers
        .slice(-4)
        .reverse()
        .map((answer) => answer.storedPredictionId),
    );
    // The pictures of the predictions retention deleted are deleted too; those still stored are kept.
    expect(await eventuallyKept(images[0], false)).toBe(false);
    expect(await eventuallyKept(images[1], false)).toBe(false);
    for (const image of images.slice(2)) expect(await pictureKept(image)).toBe(true);

    const first = await list('?limit=3');
    expect(first.body.items).toHaveLength(3);
    const second = await list(`?limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((item: Stored) => item.id)).toEqual([items[3].id]);
    expect(second.body.nextCursor).toBeNull();

    const top = (item: Stored) => item.predictions[0];
    const label = top(items[0]).label;
    const withLabel = (await list(`?label=${label}&minProbability=0.5`)).body.items as Stored[];
    expect(withLabel.map((item) => item.id)).toEqual(
      items.filter((item) => top(item).label === label).map((item) => item.id),
    );
    const none = await list(`?label=${label}&minProbability=0.999&maxProbability=1`);
    expect(
      none.body.items.every((item: Stored) => item.predictions.find((p) => p.label === label)!.probability >= 0.999),
    ).toBe(true);
    const later = (await list(`?from=${encodeURIComponent(items[1].storedAt)}`)).body.items as Stored[];
    expect(later.map((item) => item.id)).toEqual(
      items.filter((item) => item.storedAt >= items[1].storedAt).map((item) => item.id),
    );
    const before = (await list(`?to=${encodeURIComponent(items[1].storedAt)}`)).body.items as Stored[];
    expect(before.every((item) => item.storedAt < items[1].storedAt)).toBe(true);

    const bad = await list('?minProbability=2');
    expect(bad.status).toBe(400);
    const badTime = await list('?from=yesterday');
    expect(badTime.status).toBe(400);
  });

  it('promotes stored predictions into the dataset with a corrected label, recording the prediction as the source', async () => {
    const items = (await list()).body.items as Stored[];
    const [target, other] = items;
    const missing = await testApp.http
      .post(`/v1/projects/${project.id}/predictions/promote`)
      .set('Authorization', client.auth)
      .send({
        items: [{ predictionId: target.id, label: 'red' }, { predictionId: '00000000-0000-4000-8000-000000000000' }],
      });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('PREDICTION_NOT_FOUND');
    const unknownLabel = await testApp.http
      .post(`/v1/projects/${project.id}/predictions/promote`)
      .set('Authorization', client.auth)
      .send({ items: [{ predictionId: target.id, label: 'green' }] });
    expect(unknownLabel.status).toBe(400);
    expect(unknownLabel.body.code).toBe('UNKNOWN_LABEL');
    expect(
      (await testApp.http.get(`/v1/projects/${project.id}/images`).set('Authorization', client.auth)).body.items,
    ).toEqual([]);

    const promoted = await testApp.http
      .post(`/v1/projects/${project.id}/predictions/promote`)
      .set('Authorization', client.auth)
      .send({ items: [{ predictionId: target.id, label: 'blue' }, { predictionId: other.id }] });
    expect(promoted.status).toBe(200);
    expect(promoted.body.items.map((item: { status: string }) => item.status)).toEqual(['created', 'created']);
    const [targetImage, otherImage] = promoted.body.items.map((item: { imageId: string }) => item.imageId);
    const image = await testApp.http
      .get(`/v1/projects/${project.id}/images/${targetImage}`)
      .set('Authorization', client.auth);
    expect(image.body.label).toMatchObject({ id: project.labels.blue, name: 'blue' });
    const otherView = await testApp.http
      .get(`/v1/projects/${project.id}/images/${otherImage}`)
      .set('Authorization', client.auth);
    expect(otherView.body.label.name).toBe(other.predictions[0].label);
    expect(
      (await testApp.http.get(`/v1/projects/${project.id}/predictions/${target.id}`).set('Authorization', client.auth))
        .body.promotedImageId,
    ).toBe(targetImage);

    const again = await testApp.http
      .post(`/v1/projects/${project.id}/predictions/promote`)
      .set('Authorization', client.auth)
      .send({ items: [{ predictionId: target.id }] });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('PREDICTION_ALREADY_PROMOTED');

    const history = await testApp.http
      .get(`/v1/projects/${project.id}/history?limit=200`)
      .set('Authorization', client.auth);
    const promotion = history.body.items.find(
      (entry: { type: string; data: { predictionId: string } }) =>
        entry.type === 'StoredPredictionPromoted' && entry.data.predictionId === target.id,
    );
    expect(promotion).toMatchObject({ v: 1, data: { imageId: targetImage, labelId: project.labels.blue } });
    const upload = history.body.items.find(
      (entry: { type: string; data: { imageId: string } }) =>
        entry.type === 'ImageUploaded' && entry.data.imageId === targetImage,
    );
    expect(upload.metadata.correlationId).toBe(promotion.metadata.correlationId);
  });

  it("deletes a stored prediction and its picture, unless promoted; another user sees none of the project's predictions", async () => {
    const [promoted, , notPromoted] = (await list()).body.items as Stored[];
    expect(promoted.promotedImageId).not.toBeNull();
    const notPromotedImage = (
      await testApp.http.get(notPromoted.imageUrl).set('Authorization', client.auth).buffer(true)
    ).body as Buffer;
    expect(notPromoted.promotedImageId).toBeNull();
    expect(
      (
        await testApp.http
          .delete(`/v1/projects/${project.id}/predictions/${notPromoted.id}`)
          .set('Authorization', client.auth)
      ).status,
    ).toBe(204);
    expect(await eventuallyKept(notPromotedImage, false)).toBe(false);

    // A promoted prediction's picture belongs to the dataset: deleting the prediction leaves the image there.
    const promotedImage = (await testApp.http.get(promoted.imageUrl).set('Authorization', client.auth).buffer(true))
      .body as Buffer;
    const first = promoted;
    const deleted = await testApp.http
      .delete(`/v1/projects/${project.id}/predictions/${first.id}`)
      .set('Authorization', client.auth);
    expect(deleted.status).toBe(204);
    expect((await list()).body.items.map((item: Stored) => item.id)).not.toContain(first.id);
    const gone = await testApp.http
      .get(`/v1/projects/${project.id}/predictions/${first.id}`)
      .set('Authorization', client.auth);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('PREDICTION_NOT_FOUND');
    const datasetImage = await testApp.http
      .get(`/v1/projects/${project.id}/images/${promoted.promotedImageId}/content`)
      .set('Authorization', client.auth)
      .buffer(true);
    expect(datasetImage.status).toBe(200);
    expect(Buffer.compare(datasetImage.body as Buffer, promotedImage)).toBe(0);
    expect(await pictureKept(promotedImage)).toBe(true);

    const stranger = (await registerAndLogIn(testApp)).auth;
    expect((await list('', stranger)).status).toBe(404);
    const [kept] = (await list()).body.items as Stored[];
    expect((await testApp.http.get(kept.imageUrl).set('Authorization', stranger)).status).toBe(404);
    expect(
      (await testApp.http.delete(`/v1/projects/${project.id}/predictions/${kept.id}`).set('Authorization', stranger))
        .status,
    ).toBe(404);
  });

  it("keeps a deleted prediction's picture that a dataset image was uploaded with, even one removed since", async () => {
    const [photo, other] = await colouredSquares(RED, 2, 31);
    const [uploaded] = await client.upload(project.id, [photo], { label: 'red' });
    const onDatasetPhoto = (await predict(photo)).body.storedPredictionId as string;
    const onOtherPhoto = (await predict(other)).body.storedPredictionId as string;
    const remove = await testApp.http
      .delete(`/v1/projects/${project.id}/images/${uploaded.id}`)
      .set('Authorization', client.auth);
    expect(remove.status).toBe(204);

    for (const predictionId of [onDatasetPhoto, onOtherPhoto]) {
      const deleted = await testApp.http
        .delete(`/v1/projects/${project.id}/predictions/${predictionId}`)
        .set('Authorization', client.auth);
      expect(deleted.status).toBe(204);
    }
    // Deletions are reclaimed in order: once the second picture is gone, the first was decided.
    expect(await eventuallyKept(other, false)).toBe(false);
    // The removed image's bytes stay for the history and for reproducing the iterations that trained on it.
    expect(await pictureKept(photo)).toBe(true);
  });

  it('writes what it answered before shutting down, and stops storing when turned off', async () => {
    // Answered, then the app closes at once: the write behind the answer happens before the event store closes.
    const answered = (await predict(images[2])).body.storedPredictionId;
    await testApp.close();
    testApp = await startTestApp({ dataDir: testApp.dataDir });
    const afterRestart = (await list('?limit=100')).body.items.map((item: Stored) => item.id);
    expect(afterRestart).toContain(answered);

    expect((await configure({ enabled: false })).status).toBe(200);
    expect((await predict(images[0])).body.storedPredictionId).toBeUndefined();
    expect((await list('?limit=100')).body.items.map((item: Stored) => item.id)).toEqual(afterRestart);
  });

  it('has read models equal to a rebuild from the log (replay --verify), with every new event versioned', async () => {
    await expectReplayEqual(testApp, ['stored-predictions', 'deployments', 'project-history']);
  });
});

describe('prediction store of an object detection deployment', () => {
  let testApp: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('answers 503 PREDICTION_NOT_STORED and stores nothing while its journal cannot be written', async () => {
    const { project, deployment } = await deployedTinyModel(client, ['red', 'blue'], 'unwritable journal');
    await client.http
      .put(`/v1/projects/${project.id}/deployments/${deployment.id}/prediction-store`)
      .set('Authorization', client.auth)
      .send({ enabled: true })
      .expect(200);
    const [image] = await colouredSquares(RED, 1, 41);
    const predict = () =>
      client.http
        .post(`/v1/predict/${deployment.id}`)
        .set('Content-Type', 'image/png')
        .set('X-Api-Key', deployment.apiKey)
        .send(image);
    const journal = join(testApp.dataDir, 'journal');
    writeFileSync(journal, 'a file where the journal folder should be');
    const refused = await predict();
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('PREDICTION_NOT_STORED');
    expect(
      (await client.http.get(`/v1/projects/${project.id}/predictions`).set('Authorization', client.auth).expect(200))
        .body.items,
    ).toEqual([]);
    rmSync(journal);
    const stored = await predict().expect(200);
    expect(
      (
        await client.http.get(`/v1/projects/${project.id}/predictions`).set('Authorization', client.auth).expect(200)
      ).body.items.map((item: Stored) => item.id),
    ).toEqual([stored.body.storedPredictionId]);
  }, 60_000);

  it('promotes a stored detection with corrected boxes: the dataset gets the picture with those regions', async () => {
    const project = await client.createProject('detection', ['red', 'blue'], 'detection store');
    const imported = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyDetector(['red', 'blue'])), 'detector.zip')
      .expect(201);
    const deployment = (
      await client.http
        .post(`/v1/projects/${project.id}/deployments`)
        .set('Authorization', client.auth)
        .send({ iterationId: imported.body.id })
        .expect(201)
    ).body as { id: string; apiKey: string };
    await client.http
      .put(`/v1/projects/${project.id}/deployments/${deployment.id}/prediction-store`)
      .set('Authorization', client.auth)
      .send({ enabled: true })
      .expect(200);
    const [scene] = await squareScenes([RED, BLUE], 1, 31, 64);

    const answer = await client.http
      .post(`/v1/predict/${deployment.id}`)
      .set('Content-Type', 'image/png')
      .set('X-Api-Key', deployment.apiKey)
      .send(scene.png)
      .expect(200);
    const storedId = answer.body.storedPredictionId as string;
    const stored = (
      await client.http
        .get(`/v1/projects/${project.id}/predictions/${storedId}`)
        .set('Authorization', client.auth)
        .expect(200)
    ).body;
    // As answered, each with the id of its label.
    expect(stored.predictions).toEqual(
      answer.body.predictions.map((prediction: { label: string }) => ({
        ...prediction,
        labelId: project.labels[prediction.label],
      })),
    );
    expect(stored.predictions.every((prediction: { box?: unknown }) => prediction.box !== undefined)).toBe(true);

    // The untrained detector's boxes mean nothing: the owner draws the right ones, by label name and by label id.
    const corrected = [
      { label: 'red', x: 0.1, y: 0.15, width: 0.3, height: 0.25 },
      { label: project.labels.blue, x: 0.5, y: 0.55, width: 0.4, height: 0.35 },
    ];
    const classificationStyle = await client.http
      .post(`/v1/projects/${project.id}/predictions/promote`)
      .set('Authorization', client.auth)
      .send({ items: [{ predictionId: storedId, label: 'red' }] });
    expect(classificationStyle.status).toBe(400);
    expect(classificationStyle.body.code).toBe('WRONG_PROJECT_TYPE');
    const outside = await client.http
      .post(`/v1/projects/${project.id}/predictions/promote`)
      .set('Authorization', client.auth)
      .send({
        items: [{ predictionId: storedId, regions: [{ label: 'red', x: 0.8, y: 0.1, width: 0.5, height: 0.2 }] }],
      });
    expect(outside.status).toBe(400);
    expect(outside.body.code).toBe('REGION_OUT_OF_BOUNDS');
    expect(
      (await client.http.get(`/v1/projects/${project.id}/images`).set('Authorization', client.auth)).body.items,
    ).toEqual([]);

    const promoted = await client.http
      .post(`/v1/projects/${project.id}/predictions/promote`)
      .set('Authorization', client.auth)
      .send({ items: [{ predictionId: storedId, regions: corrected, split: 'test' }] })
      .expect(200);
    expect(promoted.body.items).toMatchObject([{ predictionId: storedId, status: 'created' }]);
    const imageId = promoted.body.items[0].imageId as string;

    const image = (
      await client.http
        .get(`/v1/projects/${project.id}/images/${imageId}`)
        .set('Authorization', client.auth)
        .expect(200)
    ).body;
    expect(image).toMatchObject({ split: 'test', width: 64, height: 64 });
    const regions = (
      image.regions as { label: { id: string; name: string }; x: number; y: number; width: number; height: number }[]
    )
      .map(({ label, x, y, width, height }) => ({ label: label.name, x, y, width, height }))
      .sort((a, b) => a.x - b.x);
    expect(regions).toEqual([
      { label: 'red', x: 0.1, y: 0.15, width: 0.3, height: 0.25 },
      { label: 'blue', x: 0.5, y: 0.55, width: 0.4, height: 0.35 },
    ]);
    const content = await client.http
      .get(`/v1/projects/${project.id}/images/${imageId}/content`)
      .set('Authorization', client.auth)
      .buffer(true)
      .expect(200);
    expect(Buffer.compare(content.body as Buffer, scene.png)).toBe(0);
    expect(
      (await client.http.get(`/v1/projects/${project.id}/predictions/${storedId}`).set('Authorization', client.auth))
        .body.promotedImageId,
    ).toBe(imageId);
    const labeled = await client.http
      .get(`/v1/projects/${project.id}/images?label=blue`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(labeled.body.items.map((item: { id: string }) => item.id)).toEqual([imageId]);

    await expectReplayEqual(testApp, ['stored-predictions', 'images', 'project-history']);
  }, 60_000);
});

describe('Custom Vision stored predictions, driven by the official SDKs', () => {
  let testApp: TestApp;
  let trainer: TrainingAPIClient;
  let predictor: PredictionAPIClient;
  let native: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    await testApp.app.listen(0, '127.0.0.1');
    const endpoint = `http://127.0.0.1:${(testApp.app.getHttpServer().address() as AddressInfo).port}`;
    const user = await registerAndLogIn(testApp);
    const issued = await testApp.http
      .post('/v1/users/me/tokens')
      .set('Authorization', user.auth)
      .send({ name: 'custom vision' })
      .expect(201);
    trainer = new TrainingAPIClient(
      new ApiKeyCredentials({ inHeader: { 'Training-key': issued.body.token } }),
      endpoint,
    );
    predictor = new PredictionAPIClient(
      new ApiKeyCredentials({ inHeader: { 'Prediction-key': issued.body.token } }),
      endpoint,
    );
    native = new ApiClient(testApp, user.auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('classifyImage stores (the published default), classifyImageWithNoStore does not; queryPredictions filters, deletePrediction deletes', async () => {
    const project = await native.createProject('classification', ['red', 'blue'], 'cv store');
    const { modelZip, tinyClassifier } = await import('./support/tiny-models.js');
    const imported = await native.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', native.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    const iterationId = imported.body.id as string;
    expect((await trainer.publishIteration(project.id, iterationId, 'tiny', 'resource')).body).toBe(true);

    const [red, blue, other] = [...(await colouredSquares(RED, 2, 31)), ...(await colouredSquares(BLUE, 1, 32))];
    const stored = [
      await predictor.classifyImage(project.id, 'tiny', red),
      await predictor.classifyImage(project.id, 'tiny', blue),
    ];
    await predictor.classifyImageWithNoStore(project.id, 'tiny', other);

    const all = await trainer.queryPredictions(project.id, { orderBy: 'Oldest', maxCount: 10 });
    expect(all.results!.map((result) => result.id)).toEqual(stored.map((result) => result.id));
    expect(all.results![0]).toMatchObject({ project: project.id, iteration: iterationId });
    expect(all.results![0].predictions!.map((p) => [p.tagName, p.probability])).toEqual(
      stored[0].predictions!.map((p) => [p.tagName, p.probability]),
    );
    const image = await fetch(all.results![0].originalImageUri!, { headers: { Authorization: native.auth } });
    expect(Buffer.compare(Buffer.from(await image.arrayBuffer()), red)).toBe(0);

    const firstPage = await trainer.queryPredictions(project.id, { orderBy: 'Newest', maxCount: 1 });
    expect(firstPage.results!.map((result) => result.id)).toEqual([stored[1].id]);
    const secondPage = await trainer.queryPredictions(project.id, { ...firstPage.token, maxCount: 1 });
    expect(secondPage.results!.map((result) => result.id)).toEqual([stored[0].id]);

    const redProbability = (prediction: (typeof stored)[number]) =>
      prediction.predictions!.find((p) => p.tagName === 'red')!.probability!;
    const threshold = (redProbability(stored[0]) + redProbability(stored[1])) / 2;
    const likelyRed = await trainer.queryPredictions(project.id, {
      tags: [{ id: project.labels.red, minThreshold: threshold, maxThreshold: 1 }],
    });
    const expectedRed = stored
      .filter((prediction) => redProbability(prediction) >= threshold)
      .map((prediction) => prediction.id);
    expect(likelyRed.results!.map((result) => result.id)).toEqual(expectedRed);
    expect(expectedRed).toHaveLength(1);

    await trainer.deletePrediction(project.id, [stored[0].id!]);
    const left = await trainer.queryPredictions(project.id, {});
    expect(left.results!.map((result) => result.id)).toEqual([stored[1].id]);
  });
});
