import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictionAPIClient } from '@azure/cognitiveservices-customvision-prediction';
import { TrainingAPIClient } from '@azure/cognitiveservices-customvision-training';
import { ApiKeyCredentials } from '@azure/ms-rest-js';
import { BLUE, colouredSquares, RED, squareScenes } from './support/generated-images.js';
import { FAST_CLASSIFIER, FAST_DETECTOR, iou, restError, sdkClients } from './support/custom-vision-sdk.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

// Microsoft's own Custom Vision SDKs, pointed at a booted diyml, as a self-hosting Azure user would.

describe('Custom Vision compatibility, driven by the official SDKs', () => {
  let testApp: TestApp;
  let endpoint: string;
  let token: string;
  let trainer: TrainingAPIClient;
  let predictor: PredictionAPIClient;

  /** Our own API, with the same personal token as a bearer token (e.g. to set a fast training config). */
  const native = () => ({ Authorization: `Bearer ${token}` });

  async function waitForTraining(projectId: string, iterationId: string, timeoutMs = 150_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const iteration = await trainer.getIteration(projectId, iterationId);
      if (iteration.status !== 'Training') return iteration;
      if (Date.now() > deadline) throw new Error(`iteration still training after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    await testApp.app.listen(0, '127.0.0.1');
    const user = await registerAndLogIn(testApp);
    ({ endpoint, token, trainer, predictor } = await sdkClients(testApp, user.auth));
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('serves the domains, with Azure’s well-known ids', async () => {
    const domains = await trainer.getDomains();
    expect(domains.map((domain) => [domain.id, domain.type])).toEqual(
      expect.arrayContaining([
        ['ee85a74c-405e-4adc-bb47-ffa8ca0c9f31', 'Classification'],
        ['da2e3a8a-40a5-4171-82f4-58522f70fbc1', 'ObjectDetection'],
      ]),
    );
    const one = await trainer.getDomain('da2e3a8a-40a5-4171-82f4-58522f70fbc1');
    expect(one).toMatchObject({ name: 'General', type: 'ObjectDetection', exportable: true });
  });

  it('refuses a missing or wrong key with 401 and Custom Vision’s error body', async () => {
    const anonymous = new TrainingAPIClient(
      new ApiKeyCredentials({ inHeader: { 'Training-key': 'dml_not-a-token' } }),
      endpoint,
    );
    const error = await restError(anonymous.getProjects());
    expect(error.statusCode).toBe(401);
    expect(error.code).toBe('Unauthorized');
    const raw = await fetch(`${endpoint}/customvision/v3.3/training/projects`);
    expect(raw.status).toBe(401);
    expect(Object.keys((await raw.json()) as object).sort()).toEqual(['code', 'message']);
  });

  it('answers unknown ids with NotFound codes, in {code, message}', async () => {
    const error = await restError(trainer.getProject('00000000-0000-4000-8000-000000000000'));
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('NotFoundProject');
    const raw = await fetch(
      `${endpoint}/customvision/v3.0/training/projects/00000000-0000-4000-8000-000000000000/iterations`,
      {
        headers: { 'Training-Key': token },
      },
    );
    expect(raw.status).toBe(404);
    expect(await raw.json()).toEqual({ code: 'NotFoundProject', message: expect.any(String) });
    const oversized = await fetch(
      `${endpoint}/customvision/v3.3/training/projects/00000000-0000-4000-8000-000000000000/images/files`,
      {
        method: 'POST',
        headers: { 'Training-Key': token, 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ images: [{ contents: Buffer.alloc(200_000).toString('base64') }] }),
      },
    );
    // A batch of base64 images well over the default 100 kB JSON limit reaches the route.
    expect(oversized.status).toBe(404);
    expect(((await oversized.json()) as { code: string }).code).toBe('NotFoundProject');
    const unserved = await fetch(`${endpoint}/customvision/v3.3/training/projects/x/images/thumbnails`, {
      method: 'POST',
      headers: { 'Training-Key': token },
    });
    expect(unserved.status).toBe(404);
    expect(((await unserved.json()) as { code: string }).code).toBe('NotFound');
  });

  it('classification: project, tags, images, train, performance, publish, classify, quick test, export, unpublish', async () => {
    const project = await trainer.createProject('Red or blue', {
      description: 'squares',
      domainId: 'ee85a74c-405e-4adc-bb47-ffa8ca0c9f31',
      classificationType: 'Multiclass',
    });
    expect(project).toMatchObject({
      name: 'Red or blue',
      description: 'squares',
      settings: { domainId: 'ee85a74c-405e-4adc-bb47-ffa8ca0c9f31' },
    });
    expect(project.created).toBeInstanceOf(Date);
    expect((await trainer.getProjects()).map((p) => p.id)).toContain(project.id);
    expect((await trainer.getProject(project.id!)).name).toBe('Red or blue');

    const red = await trainer.createTag(project.id!, 'red');
    const blue = await trainer.createTag(project.id!, 'blue');
    expect((await trainer.getTags(project.id!)).map((tag) => tag.name).sort()).toEqual(['blue', 'red']);

    // Images from data (multipart, one per call as the SDK sends it) and from files (base64 batches).
    const reds = await colouredSquares(RED, 14, 1);
    const blues = await colouredSquares(BLUE, 14, 2);
    for (const png of reds.slice(0, 2)) {
      const summary = await trainer.createImagesFromData(project.id!, png, { tagIds: [red.id!] });
      expect(summary.isBatchSuccessful).toBe(true);
      expect(summary.images![0]).toMatchObject({
        status: 'OK',
        image: { width: 16, height: 16, tags: [{ tagId: red.id, tagName: 'red' }] },
      });
    }
    const redBatch = await trainer.createImagesFromFiles(project.id!, {
      images: reds.slice(2).map((png, index) => ({ name: `red-${index}.png`, contents: png, tagIds: [red.id!] })),
    });
    expect(redBatch.isBatchSuccessful).toBe(true);
    expect(redBatch._response.status).toBe(200);

    // A batch with a file that is not an image is partly successful: 207, the rest is created.
    const blueBatch = await trainer.createImagesFromFiles(project.id!, {
      tagIds: [blue.id!],
      images: [
        ...blues.map((png, index) => ({ name: `blue-${index}.png`, contents: png })),
        { name: 'notes.txt', contents: Buffer.from('not an image') },
      ],
    });
    expect(blueBatch._response.status).toBe(207);
    expect(blueBatch.isBatchSuccessful).toBe(false);
    expect(blueBatch.images!.map((image) => image.status)).toEqual([...blues.map(() => 'OK'), 'ErrorImageFormat']);
    expect(blueBatch.images![0].image!.id).toMatch(/^[0-9a-f-]{36}$/);

    // The same bytes again are a duplicate, and an untagged image stays untagged.
    const again = await trainer.createImagesFromData(project.id!, reds[0]);
    expect(again.images![0].status).toBe('OKDuplicate');
    const untagged = (await colouredSquares([120, 120, 120], 1, 9))[0];
    await trainer.createImagesFromData(project.id!, untagged);

    expect((await trainer.getTaggedImageCount(project.id!)).body).toBe(28);
    expect((await trainer.getTaggedImageCount(project.id!, { tagIds: [red.id!] })).body).toBe(14);
    expect((await trainer.getUntaggedImageCount(project.id!)).body).toBe(1);
    const someReds = await trainer.getTaggedImages(project.id!, { tagIds: [red.id!], take: 5 });
    expect(someReds).toHaveLength(5);
    expect(someReds.every((image) => image.tags![0].tagName === 'red')).toBe(true);
    expect(await trainer.getUntaggedImages(project.id!)).toHaveLength(1);
    expect((await trainer.getTags(project.id!)).find((tag) => tag.id === red.id)!.imageCount).toBe(14);

    // Training uses the project's training configuration: ours, set through our own API with the same token.
    await testApp.http
      .put(`/v1/projects/${project.id}/training-config`)
      .set(native())
      .send(FAST_CLASSIFIER)
      .expect(200);
    const queued = await trainer.trainProject(project.id!);
    expect(queued).toMatchObject({ status: 'Training', name: 'Iteration 1', projectId: project.id });
    const iteration = await waitForTraining(project.id!, queued.id!);
    expect(iteration.status).toBe('Completed');
    expect(iteration.trainedAt).toBeInstanceOf(Date);
    expect((await trainer.getIterations(project.id!)).map((it) => it.id)).toEqual([queued.id]);

    const performance = await trainer.getIterationPerformance(project.id!, iteration.id!, { threshold: 0.5 });
    expect(performance.precision).toBeGreaterThanOrEqual(0.8);
    expect(performance.recall).toBeGreaterThanOrEqual(0.8);
    expect(performance.averagePrecision).toBeGreaterThanOrEqual(0.8);
    expect(performance.perTagPerformance!.map((tag) => [tag.id, tag.name]).sort()).toEqual(
      [
        [blue.id, 'blue'],
        [red.id, 'red'],
      ].sort(),
    );
    const strict = await trainer.getIterationPerformance(project.id!, iteration.id!, { threshold: 1 });
    expect(strict.recall!).toBeLessThanOrEqual(performance.recall!);

    // Per validation image: its tag and every tag's probability, most probable first.
    const { validationCount } = (
      await testApp.http.get(`/v1/projects/${project.id}/iterations/${iteration.id}`).set(native()).expect(200)
    ).body;
    expect((await trainer.getImagePerformanceCount(project.id!, iteration.id!)).body).toBe(validationCount);
    const images = await trainer.getImagePerformances(project.id!, iteration.id!, { take: 256, orderBy: 'Oldest' });
    expect(images).toHaveLength(validationCount);
    expect(images[0]).toMatchObject({
      width: 16,
      height: 16,
      tags: [{ tagName: expect.stringMatching(/^(red|blue)$/) }],
    });
    expect(images[0].created).toBeInstanceOf(Date);
    expect(images[0].predictions!.map((prediction) => prediction.tagName).sort()).toEqual(['blue', 'red']);
    expect(images[0].predictions![0].probability).toBeGreaterThanOrEqual(images[0].predictions![1].probability!);
    const right = images.filter((image) => image.predictions![0].tagId === image.tags![0].tagId);
    expect(right.length / images.length).toBeGreaterThanOrEqual(0.8);
    const newest = await trainer.getImagePerformances(project.id!, iteration.id!, { take: 1, skip: 0 });
    expect(newest[0].id).toBe(images.at(-1)!.id);
    const redImages = await trainer.getImagePerformances(project.id!, iteration.id!, { tagIds: [red.id!] });
    expect(redImages.every((image) => image.tags![0].tagId === red.id)).toBe(true);
    expect((await trainer.getImagePerformanceCount(project.id!, iteration.id!, { tagIds: [red.id!] })).body).toBe(
      redImages.length,
    );
    const picture = await fetch(images[0].imageUri!, { headers: native() });
    expect([picture.status, picture.headers.get('content-type')]).toEqual([200, 'image/png']);

    // Publish, then classify with the prediction client (Prediction-Key: the owner's personal token).
    expect(
      (await trainer.publishIteration(project.id!, iteration.id!, 'squares', '/subscriptions/x/resourceGroups/y')).body,
    ).toBe(true);
    expect((await trainer.getIteration(project.id!, iteration.id!)).publishName).toBe('squares');
    // The publish name is the deployment's name: the REST API refuses a second deployment under it.
    const sameName = await testApp.http
      .post(`/v1/projects/${project.id}/deployments`)
      .set(native())
      .send({ iterationId: iteration.id, name: 'squares' });
    expect([sameName.status, sameName.body.code]).toEqual([409, 'DEPLOYMENT_NAME_TAKEN']);
    const [freshRed] = await colouredSquares(RED, 1, 101);
    const [freshBlue] = await colouredSquares(BLUE, 1, 102);
    const redResult = await predictor.classifyImage(project.id!, 'squares', freshRed);
    expect(redResult).toMatchObject({ project: project.id, iteration: iteration.id });
    expect(redResult.predictions![0]).toMatchObject({ tagId: red.id, tagName: 'red' });
    expect(redResult.predictions![0].probability).toBeGreaterThan(0.5);
    expect(redResult.predictions).toHaveLength(2);
    const blueResult = await predictor.classifyImageWithNoStore(project.id!, 'squares', freshBlue, {
      application: 'tests',
    });
    expect(blueResult.predictions![0]).toMatchObject({ tagId: blue.id, tagName: 'blue' });

    // Quick test needs no publishing.
    const quick = await trainer.quickTestImage(project.id!, freshBlue, { iterationId: iteration.id });
    expect(quick.predictions![0].tagName).toBe('blue');

    // A wrong prediction key, an unknown publish name, the wrong endpoint for the project type.
    const stranger = new PredictionAPIClient(
      new ApiKeyCredentials({ inHeader: { 'Prediction-key': 'dpk_wrong' } }),
      endpoint,
    );
    expect((await restError(stranger.classifyImage(project.id!, 'squares', freshRed))).statusCode).toBe(401);
    const unknownName = await restError(predictor.classifyImage(project.id!, 'nothing-here', freshRed));
    expect([unknownName.statusCode, unknownName.code]).toEqual([404, 'NotFound']);
    expect((await restError(predictor.detectImage(project.id!, 'squares', freshRed))).code).toBe(
      'BadRequestNotSupported',
    );
    const notAnImage = await restError(predictor.classifyImage(project.id!, 'squares', Buffer.from('hello')));
    expect([notAnImage.statusCode, notAnImage.code]).toEqual([400, 'BadRequestImageFormat']);

    // Export: a TensorFlow.js archive or an ONNX file, downloadable with the same token.
    const exported = await trainer.exportIteration(project.id!, iteration.id!, 'TensorFlow');
    expect(exported).toMatchObject({ platform: 'TensorFlow', status: 'Done' });
    expect((await trainer.getExports(project.id!, iteration.id!)).map((e) => [e.platform, e.status])).toEqual([
      ['TensorFlow', 'Done'],
      ['ONNX', 'Done'],
    ]);
    const archive = await fetch(exported.downloadUri!, { headers: native() });
    expect(archive.status).toBe(200);
    expect(archive.headers.get('content-type')).toBe('application/zip');
    const onnx = await trainer.exportIteration(project.id!, iteration.id!, 'ONNX');
    expect(onnx).toMatchObject({ platform: 'ONNX', status: 'Done' });
    const onnxFile = await fetch(onnx.downloadUri!, { headers: native() });
    expect([onnxFile.status, onnxFile.headers.get('content-type')]).toEqual([200, 'application/octet-stream']);
    expect((await restError(trainer.exportIteration(project.id!, iteration.id!, 'CoreML'))).statusCode).toBe(400);

    // Unpublished: the publish name is gone.
    await trainer.unpublishIteration(project.id!, iteration.id!);
    expect((await trainer.getIteration(project.id!, iteration.id!)).publishName).toBeFalsy();
    expect((await restError(predictor.classifyImage(project.id!, 'squares', freshRed))).statusCode).toBe(404);

    await trainer.deleteProject(project.id!);
    expect((await restError(trainer.getProject(project.id!))).code).toBe('NotFoundProject');
  }, 240_000);

  it('publishes a second iteration under a name in use only with overwrite, which moves the name to it', async () => {
    const project = await trainer.createProject('Publish names', { classificationType: 'Multiclass' });
    const red = await trainer.createTag(project.id!, 'red');
    const blue = await trainer.createTag(project.id!, 'blue');
    for (const [tag, colour, seed] of [
      [red, RED, 31],
      [blue, BLUE, 32],
    ] as const) {
      const pngs = await colouredSquares(colour, 8, seed);
      await trainer.createImagesFromFiles(project.id!, {
        tagIds: [tag.id!],
        images: pngs.map((png, index) => ({ name: `${tag.name}-${index}.png`, contents: png })),
      });
    }
    await testApp.http
      .put(`/v1/projects/${project.id}/training-config`)
      .set(native())
      .send(FAST_CLASSIFIER)
      .expect(200);
    const first = await waitForTraining(project.id!, (await trainer.trainProject(project.id!)).id!);
    const second = await waitForTraining(project.id!, (await trainer.trainProject(project.id!)).id!);
    await trainer.publishIteration(project.id!, first.id!, 'live', 'resource');

    const refused = await restError(trainer.publishIteration(project.id!, second.id!, 'live', 'resource'));
    expect([refused.statusCode, refused.code]).toEqual([400, 'BadRequestInvalidPublishName']);
    expect(refused.message).toContain('overwrite=true');

    const moved = await trainer.publishIteration(project.id!, second.id!, 'live', 'resource', { overwrite: true });
    expect(moved.body).toBe(true);
    expect((await trainer.getIteration(project.id!, second.id!)).publishName).toBe('live');
    expect((await trainer.getIteration(project.id!, first.id!)).publishName).toBeFalsy();
    const [freshRed] = await colouredSquares(RED, 1, 33);
    expect((await predictor.classifyImage(project.id!, 'live', freshRed)).iteration).toBe(second.id);
    await trainer.deleteProject(project.id!);
  }, 240_000);

  it('detection: regions from files and from image regions, train, performance, publish, detect', async () => {
    const project = await trainer.createProject('Squares', { domainId: 'da2e3a8a-40a5-4171-82f4-58522f70fbc1' });
    expect(project.settings!.domainId).toBe('da2e3a8a-40a5-4171-82f4-58522f70fbc1');
    const tags = [await trainer.createTag(project.id!, 'red'), await trainer.createTag(project.id!, 'blue')];
    const scenes = await squareScenes([RED, BLUE], 60, 11);
    const regionsOf = (scene: (typeof scenes)[number]) =>
      scene.boxes.map((box) => ({
        tagId: tags[box.label].id!,
        left: box.x,
        top: box.y,
        width: box.width,
        height: box.height,
      }));

    // 50 scenes with their regions in batches from files (JSON bodies are limited to 100 kB: see the README)…
    const batches = [];
    for (let start = 0; start < 50; start += 10) {
      const images = scenes.slice(start, start + 10).map((scene, index) => ({
        name: `scene-${start + index}.png`,
        contents: scene.png,
        regions: regionsOf(scene),
      }));
      batches.push(await trainer.createImagesFromFiles(project.id!, { images }));
    }
    expect(batches.every((batch) => batch.isBatchSuccessful)).toBe(true);
    const first = batches[0].images![0].image!;
    expect(first.regions![0]).toMatchObject({
      tagId: regionsOf(scenes[0])[0].tagId,
      left: scenes[0].boxes[0].x,
      top: scenes[0].boxes[0].y,
    });
    expect(first.regions![0].regionId).toMatch(/^[0-9a-f-]{36}$/);

    // …and 10 uploaded untagged from data, then given regions.
    const ids: string[] = [];
    for (const scene of scenes.slice(50))
      ids.push((await trainer.createImagesFromData(project.id!, scene.png)).images![0].image!.id!);
    expect((await trainer.getUntaggedImageCount(project.id!)).body).toBe(10);
    const regions = await trainer.createImageRegions(project.id!, {
      regions: scenes
        .slice(50)
        .flatMap((scene, index) => regionsOf(scene).map((region) => ({ ...region, imageId: ids[index] }))),
    });
    expect(regions.created!.length).toBe(scenes.slice(50).reduce((sum, scene) => sum + scene.boxes.length, 0));
    expect(regions.created![0]).toMatchObject({ imageId: ids[0], tagName: tags[scenes[50].boxes[0].label].name });
    expect((await trainer.getUntaggedImageCount(project.id!)).body).toBe(0);
    expect((await trainer.getTaggedImageCount(project.id!)).body).toBe(60);

    await testApp.http.put(`/v1/projects/${project.id}/training-config`).set(native()).send(FAST_DETECTOR).expect(200);
    const queued = await trainer.trainProject(project.id!);
    const iteration = await waitForTraining(project.id!, queued.id!);
    expect(iteration.status).toBe('Completed');
    expect(iteration.classificationType).toBeFalsy();

    const performance = await trainer.getIterationPerformance(project.id!, iteration.id!, {
      threshold: 0.3,
      overlapThreshold: 0.5,
    });
    expect(performance.averagePrecision).toBeGreaterThan(0.3);
    expect(performance.perTagPerformance!.map((tag) => tag.name).sort()).toEqual(['blue', 'red']);

    // Per validation image: its regions, and the boxes found with their probabilities.
    const detections = await trainer.getImagePerformances(project.id!, iteration.id!, { take: 256 });
    expect(detections.length).toBe((await trainer.getImagePerformanceCount(project.id!, iteration.id!)).body);
    expect(detections.length).toBeGreaterThan(0);
    expect(detections.every((image) => image.regions!.length > 0 && image.regions![0].regionId!.length === 36)).toBe(
      true,
    );
    const found = detections.filter((image) => {
      const best = image.predictions![0];
      return (
        best?.boundingBox &&
        image.regions!.some(
          (region) =>
            region.tagId === best.tagId &&
            iou(best.boundingBox!, { x: region.left, y: region.top, width: region.width, height: region.height }) > 0.3,
        )
      );
    });
    expect(found.length / detections.length).toBeGreaterThanOrEqual(0.5);

    await trainer.publishIteration(project.id!, iteration.id!, 'finder', 'resource');
    const [fresh] = await squareScenes([RED, BLUE], 1, 99);
    const detected = await predictor.detectImage(project.id!, 'finder', fresh.png);
    const best = detected.predictions![0];
    expect(best.boundingBox).toBeDefined();
    expect(best.tagName).toBe(['red', 'blue'][fresh.boxes[0].label]);
    expect(best.tagId).toBe(tags[fresh.boxes[0].label].id);
    expect(iou(best.boundingBox!, fresh.boxes[0])).toBeGreaterThan(0.3);
    const again = await predictor.detectImageWithNoStore(project.id!, 'finder', fresh.png);
    expect(again.predictions![0].tagName).toBe(best.tagName);

    // A classification endpoint on a detection project is refused.
    expect((await restError(predictor.classifyImage(project.id!, 'finder', fresh.png))).statusCode).toBe(400);
  }, 300_000);
});
