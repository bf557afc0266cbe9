import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictionAPIClient } from '@azure/cognitiveservices-customvision-prediction';
import { TrainingAPIClient } from '@azure/cognitiveservices-customvision-training';
import {
  colourPicture,
  MULTILABEL_PICTURES_PER_SET,
  MULTILABEL_TRAINING_CONFIG,
  MULTILABEL_TRAINING_SETS,
} from './support/generated-images.js';
import { restError, sdkClients } from './support/custom-vision-sdk.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

// Custom Vision's Negative tag and classificationType switches, through Microsoft's SDKs.

const GENERAL = 'ee85a74c-405e-4adc-bb47-ffa8ca0c9f31';
const DETECTION_DOMAIN = 'da2e3a8a-40a5-4171-82f4-58522f70fbc1';

describe('Custom Vision Negative tags and classificationType, driven by the official SDKs', () => {
  let testApp: TestApp;
  let token: string;
  let trainer: TrainingAPIClient;
  let predictor: PredictionAPIClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    await testApp.app.listen(0, '127.0.0.1');
    const user = await registerAndLogIn(testApp);
    ({ token, trainer, predictor } = await sdkClients(testApp, user.auth));
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('creates one Negative tag per project, reports its type and keeps it alone on an image', async () => {
    const project = await trainer.createProject('Negative', { domainId: GENERAL, classificationType: 'Multilabel' });
    const red = await trainer.createTag(project.id!, 'red');
    const none = await trainer.createTag(project.id!, 'none', { type: 'Negative' });
    expect(none).toMatchObject({ name: 'none', type: 'Negative' });
    expect((await trainer.getTags(project.id!)).map((tag) => [tag.name, tag.type])).toEqual([
      ['red', 'Regular'],
      ['none', 'Negative'],
    ]);
    const second = await restError(trainer.createTag(project.id!, 'empty', { type: 'Negative' }));
    expect({ status: second.statusCode, code: second.code }).toEqual({
      status: 400,
      code: 'BadRequestMultipleNegativeTag',
    });

    const batch = await trainer.createImagesFromFiles(project.id!, {
      images: [
        { name: 'mixed.png', contents: await colourPicture(['red'], 1), tagIds: [red.id!, none.id!] },
        { name: 'blank.png', contents: await colourPicture([], 2), tagIds: [none.id!] },
      ],
    });
    expect(batch.images!.map((image) => image.status)).toEqual(['ErrorNegativeAndRegularTagOnSameImage', 'OK']);
    const blank = batch.images![1].image!.id!;
    const mixed = await restError(trainer.createImageTags(project.id!, { tags: [{ imageId: blank, tagId: red.id! }] }));
    expect(mixed.code).toBe('BadRequestNegativeAndRegularTagOnSameImage');
    expect(
      (await trainer.getImagesByIds(project.id!, { imageIds: [blank] }))[0].tags!.map((tag) => tag.tagName),
    ).toEqual(['none']);

    // UpdateTag switches the type; a round trip of the tag as read changes nothing.
    const regular = await trainer.updateTag(project.id!, none.id!, { ...none, type: 'Regular' });
    expect(regular.type).toBe('Regular');
    const again = await trainer.updateTag(project.id!, red.id!, { ...red, type: 'Negative' });
    expect(again.type).toBe('Negative');

    const detection = await trainer.createProject('Boxes', { domainId: DETECTION_DOMAIN });
    const refused = await restError(trainer.createTag(detection.id!, 'none', { type: 'Negative' }));
    expect(refused.code).toBe('BadRequestDetectionTrainingNotAllowNegativeTag');
    expect(await trainer.getTags(detection.id!)).toEqual([]);
  });

  it('switches classificationType Multilabel ↔ Multiclass, refusing Multiclass while an image has several tags', async () => {
    const project = await trainer.createProject('Switch', { domainId: GENERAL, classificationType: 'Multilabel' });
    const red = await trainer.createTag(project.id!, 'red');
    const green = await trainer.createTag(project.id!, 'green');
    const batch = await trainer.createImagesFromFiles(project.id!, {
      images: [{ name: 'both.png', contents: await colourPicture(['red', 'green'], 3), tagIds: [red.id!, green.id!] }],
    });
    const imageId = batch.images![0].image!.id!;
    const read = await trainer.getProject(project.id!);
    const toMulticlass = () =>
      trainer.updateProject(project.id!, { ...read, settings: { ...read.settings, classificationType: 'Multiclass' } });
    const refused = await restError(toMulticlass());
    expect({ status: refused.statusCode, code: refused.code }).toEqual({
      status: 400,
      code: 'BadRequestMultiClassClassificationTrainingValidationFailed',
    });
    expect((await trainer.getProject(project.id!)).settings!.classificationType).toBe('Multilabel');

    await trainer.deleteImageTags(project.id!, [imageId], [green.id!]);
    expect((await toMulticlass()).settings!.classificationType).toBe('Multiclass');
    const native = await testApp.http
      .get(`/v1/projects/${project.id}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(native.body.type).toBe('classification');
    expect(
      (await trainer.getImagesByIds(project.id!, { imageIds: [imageId] }))[0].tags!.map((tag) => tag.tagName),
    ).toEqual(['red']);
    const back = await trainer.updateProject(project.id!, {
      ...read,
      settings: { ...read.settings, classificationType: 'Multilabel' },
    });
    expect(back.settings!.classificationType).toBe('Multilabel');

    const detection = await trainer.createProject('Boxes', { domainId: DETECTION_DOMAIN });
    const boxes = await restError(
      trainer.updateProject(detection.id!, {
        ...detection,
        settings: { ...detection.settings, classificationType: 'Multiclass' },
      }),
    );
    expect(boxes.code).toBe('BadRequestProjectUnsupportedDomainTypeChange');
  });

  it('learns Negative images of a Multilabel project as pictures of no tag', async () => {
    const project = await trainer.createProject('Colours or none', {
      domainId: GENERAL,
      classificationType: 'Multilabel',
    });
    const tags = {
      red: await trainer.createTag(project.id!, 'red'),
      green: await trainer.createTag(project.id!, 'green'),
      blue: await trainer.createTag(project.id!, 'blue'),
    };
    const none = await trainer.createTag(project.id!, 'none', { type: 'Negative' });
    let seed = 100;
    for (const set of [...MULTILABEL_TRAINING_SETS, []]) {
      const batch = await trainer.createImagesFromFiles(project.id!, {
        images: await Promise.all(
          Array.from({ length: MULTILABEL_PICTURES_PER_SET }, async (_, index) => ({
            name: `${set.join('-') || 'none'}-${index}.png`,
            contents: await colourPicture(set, seed++),
            tagIds: set.length ? set.map((name) => tags[name].id!) : [none.id!],
          })),
        ),
      });
      expect(batch.isBatchSuccessful).toBe(true);
    }
    await testApp.http
      .put(`/v1/projects/${project.id}/training-config`)
      .set('Authorization', `Bearer ${token}`)
      .send(MULTILABEL_TRAINING_CONFIG)
      .expect(200);
    const queued = await trainer.trainProject(project.id!);
    let iteration = await trainer.getIteration(project.id!, queued.id!);
    for (const deadline = Date.now() + 150_000; iteration.status === 'Training' && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      iteration = await trainer.getIteration(project.id!, queued.id!);
    }
    expect(iteration.status).toBe('Completed');
    // The Negative images were learned (with every tag absent) beside the tagged ones.
    const learned = await testApp.http
      .get(`/v1/projects/${project.id}/iterations/${iteration.id}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(learned.body.trainCount + learned.body.validationCount).toBe(7 * MULTILABEL_PICTURES_PER_SET);
    // The Negative tag is no tag the model predicts.
    const performance = await trainer.getIterationPerformance(project.id!, iteration.id!, { threshold: 0.5 });
    expect(performance.perTagPerformance!.map((tag) => tag.name).sort()).toEqual(['blue', 'green', 'red']);

    await trainer.publishIteration(project.id!, iteration.id!, 'colours', '/subscriptions/x/resourceGroups/y');
    const blank = await predictor.classifyImage(project.id!, 'colours', await colourPicture([], 900));
    expect(blank.predictions).toHaveLength(3);
    for (const prediction of blank.predictions!) expect(prediction.probability!).toBeLessThan(0.5);
    const red = await predictor.classifyImage(project.id!, 'colours', await colourPicture(['red'], 901));
    const probability = Object.fromEntries(red.predictions!.map((p) => [p.tagName, p.probability!]));
    expect(probability.red).toBeGreaterThan(0.5);
  }, 240_000);

  it('predicts the Negative tag of a Multiclass project like a tag: a picture of none of the tags gets it', async () => {
    const project = await trainer.createProject('One colour or none', {
      domainId: GENERAL,
      classificationType: 'Multiclass',
    });
    const tags = {
      red: await trainer.createTag(project.id!, 'red'),
      green: await trainer.createTag(project.id!, 'green'),
      blue: await trainer.createTag(project.id!, 'blue'),
    };
    const none = await trainer.createTag(project.id!, 'none', { type: 'Negative' });
    let seed = 300;
    for (const colour of ['red', 'green', 'blue', null] as const) {
      const batch = await trainer.createImagesFromFiles(project.id!, {
        images: await Promise.all(
          Array.from({ length: 8 }, async (_, index) => ({
            name: `${colour ?? 'none'}-${index}.png`,
            contents: await colourPicture(colour ? [colour] : [], seed++),
            tagIds: [colour ? tags[colour].id! : none.id!],
          })),
        ),
      });
      expect(batch.isBatchSuccessful).toBe(true);
    }
    await testApp.http
      .put(`/v1/projects/${project.id}/training-config`)
      .set('Authorization', `Bearer ${token}`)
      // Fewer images than the Multilabel case above: longer training, at the faster rate these single colours learn at.
      .send({ ...MULTILABEL_TRAINING_CONFIG, epochs: 60, learningRate: 0.01 })
      .expect(200);
    const queued = await trainer.trainProject(project.id!);
    let iteration = await trainer.getIteration(project.id!, queued.id!);
    for (const deadline = Date.now() + 150_000; iteration.status === 'Training' && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      iteration = await trainer.getIteration(project.id!, queued.id!);
    }
    expect(iteration.status).toBe('Completed');
    // The Negative tag is a class the model predicts, so its performance is listed and averaged like a tag's.
    const performance = await trainer.getIterationPerformance(project.id!, iteration.id!, { threshold: 0.5 });
    const perTag = performance.perTagPerformance!;
    expect(perTag.map((tag) => tag.name).sort()).toEqual(['blue', 'green', 'none', 'red']);
    expect(perTag.find((tag) => tag.name === 'none')!.id).toBe(none.id);
    const meanAveragePrecision = perTag.reduce((sum, tag) => sum + tag.averagePrecision!, 0) / perTag.length;
    expect(performance.averagePrecision!).toBeCloseTo(meanAveragePrecision, 6);

    await trainer.publishIteration(project.id!, iteration.id!, 'colours', '/subscriptions/x/resourceGroups/y');
    const blank = await predictor.classifyImage(project.id!, 'colours', await colourPicture([], 990));
    expect(blank.predictions!.map((prediction) => prediction.tagName).sort()).toEqual(['blue', 'green', 'none', 'red']);
    expect(blank.predictions![0]).toMatchObject({ tagId: none.id, tagName: 'none', tagType: 'Negative' });
    expect(blank.predictions![0].probability!).toBeGreaterThan(0.5);
    const green = await predictor.classifyImage(project.id!, 'colours', await colourPicture(['green'], 991));
    expect(green.predictions![0]).toMatchObject({ tagName: 'green', tagType: 'Regular' });
    const quick = await trainer.quickTestImage(project.id!, await colourPicture([], 992), {
      iterationId: iteration.id,
    });
    expect(quick.predictions![0]).toMatchObject({ tagName: 'none', tagType: 'Negative' });
  }, 240_000);
});
