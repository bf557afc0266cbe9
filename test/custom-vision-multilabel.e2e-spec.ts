import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictionAPIClient } from '@azure/cognitiveservices-customvision-prediction';
import { TrainingAPIClient } from '@azure/cognitiveservices-customvision-training';
import {
  BLUE,
  colourColumns,
  colourPicture,
  MULTILABEL_PICTURES_PER_SET,
  MULTILABEL_TRAINING_CONFIG,
  MULTILABEL_TRAINING_SETS,
  RED,
} from './support/generated-images.js';
import { restError, sdkClients } from './support/custom-vision-sdk.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

// Custom Vision's Multilabel classification through Microsoft's SDKs: several tags per image, a probability per tag.

const GENERAL = 'ee85a74c-405e-4adc-bb47-ffa8ca0c9f31';
describe('Custom Vision Multilabel projects, driven by the official SDKs', () => {
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

  it('creates a Multilabel project, tags images with several tags, trains, reports per tag and classifies independently', async () => {
    const project = await trainer.createProject('Colours', { domainId: GENERAL, classificationType: 'Multilabel' });
    expect(project.settings).toMatchObject({ domainId: GENERAL, classificationType: 'Multilabel' });
    expect((await trainer.getProject(project.id!)).settings!.classificationType).toBe('Multilabel');
    const native = await testApp.http
      .get(`/v1/projects/${project.id}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(native.body.type).toBe('multilabel');
    const multiclass = await trainer.createProject('One tag', { domainId: GENERAL });
    expect(multiclass.settings!.classificationType).toBe('Multiclass');

    const tags = {
      red: await trainer.createTag(project.id!, 'red'),
      green: await trainer.createTag(project.id!, 'green'),
      blue: await trainer.createTag(project.id!, 'blue'),
    };
    let seed = 100;
    for (const set of MULTILABEL_TRAINING_SETS) {
      const batch = await trainer.createImagesFromFiles(project.id!, {
        images: await Promise.all(
          Array.from({ length: MULTILABEL_PICTURES_PER_SET }, async (_, index) => ({
            name: `${set.join('-')}-${index}.png`,
            contents: await colourPicture(set, seed++),
            tagIds: set.map((name) => tags[name].id!),
          })),
        ),
      });
      expect(batch.isBatchSuccessful).toBe(true);
      expect(batch.images![0].image!.tags!.map((tag) => tag.tagName).sort()).toEqual([...set].sort());
    }
    expect((await trainer.getTaggedImageCount(project.id!, { tagIds: [tags.green.id!] })).body).toBe(
      4 * MULTILABEL_PICTURES_PER_SET,
    );
    expect((await trainer.getTags(project.id!)).find((tag) => tag.id === tags.red.id)!.imageCount).toBe(
      3 * MULTILABEL_PICTURES_PER_SET,
    );

    // Tags added to and removed from an image one by one, as CreateImageTags and DeleteImageTags do.
    const single = await trainer.createImagesFromData(project.id!, await colourPicture(['red'], 1));
    const imageId = single.images![0].image!.id!;
    const added = await trainer.createImageTags(project.id!, {
      tags: [
        { imageId, tagId: tags.red.id! },
        { imageId, tagId: tags.blue.id! },
      ],
    });
    expect(added.created!.map((entry) => entry.tagId)).toEqual([tags.red.id, tags.blue.id]);
    expect(
      (await trainer.getImagesByIds(project.id!, { imageIds: [imageId] }))[0].tags!.map((tag) => tag.tagName).sort(),
    ).toEqual(['blue', 'red']);
    await trainer.deleteImageTags(project.id!, [imageId], [tags.red.id!]);
    expect(
      (await trainer.getImagesByIds(project.id!, { imageIds: [imageId] }))[0].tags!.map((tag) => tag.tagName),
    ).toEqual(['blue']);
    await trainer.deleteImages(project.id!, { imageIds: [imageId] });

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
    expect(iteration).toMatchObject({ status: 'Completed', classificationType: 'Multilabel' });

    const performance = await trainer.getIterationPerformance(project.id!, iteration.id!, { threshold: 0.5 });
    expect(performance.perTagPerformance!.map((tag) => tag.name).sort()).toEqual(['blue', 'green', 'red']);
    expect(performance.averagePrecision).toBeGreaterThanOrEqual(0.9);
    expect(performance.precision).toBeGreaterThanOrEqual(0.8);
    expect(performance.recall).toBeGreaterThanOrEqual(0.8);
    for (const tag of performance.perTagPerformance!) expect(tag.averagePrecision).toBeGreaterThanOrEqual(0.8);
    // Per validation image: all its tags, and every tag's probability.
    const images = await trainer.getImagePerformances(project.id!, iteration.id!);
    expect(images.length).toBeGreaterThan(0);
    expect(Math.max(...images.map((image) => image.tags!.length))).toBeGreaterThanOrEqual(2);
    expect(images.every((image) => image.predictions!.length === 3)).toBe(true);

    await trainer.publishIteration(project.id!, iteration.id!, 'colours', '/subscriptions/x/resourceGroups/y');
    const result = await predictor.classifyImage(project.id!, 'colours', await colourPicture(['red', 'blue'], 900));
    const probability = Object.fromEntries(result.predictions!.map((p) => [p.tagName, p.probability!]));
    expect(result.predictions).toHaveLength(3);
    expect(probability.red).toBeGreaterThan(0.5);
    expect(probability.blue).toBeGreaterThan(0.5);
    expect(probability.green).toBeLessThan(0.5);
    expect(
      (await restError(predictor.detectImage(project.id!, 'colours', await colourPicture(['red'], 901)))).code,
    ).toBe('BadRequestNotSupported');
  }, 240_000);

  it('keeps one tag per image on a Multiclass project', async () => {
    const project = await trainer.createProject('One tag', { domainId: GENERAL, classificationType: 'Multiclass' });
    const cat = await trainer.createTag(project.id!, 'cat');
    const dog = await trainer.createTag(project.id!, 'dog');
    const batch = await trainer.createImagesFromFiles(project.id!, {
      images: [{ name: 'both.png', contents: await colourColumns([RED, null, BLUE], 5), tagIds: [cat.id!, dog.id!] }],
    });
    expect(batch.images![0].status).toBe('ErrorTagLimitExceed');
  });
});
