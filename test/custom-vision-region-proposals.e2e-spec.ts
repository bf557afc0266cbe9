import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingAPIClient } from '@azure/cognitiveservices-customvision-training';
import { readFileSync } from 'node:fs';
import { iou, sdkClients } from './support/custom-vision-sdk.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/**
 * getImageRegionProposals before any detector is trained, on real photos: Custom Vision's detection quickstart
 * (forks), whose published boxes come with the sample. Loads the real MobileNetV2 (from nsfwjs).
 */
const SAMPLES = '/work/shared/datasets/custom-vision-samples/detection';
const DETECTION_DOMAIN = 'da2e3a8a-40a5-4171-82f4-58522f70fbc1';
const PHOTOS = ['fork_1.jpg', 'fork_2.jpg', 'fork_3.jpg'];

interface Coco {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { image_id: number; bbox: [number, number, number, number] }[];
}

describe('Region proposals before a detector is trained, Custom Vision and native (real photos)', () => {
  let testApp: TestApp;
  let trainer: TrainingAPIClient;
  let auth: string;
  const coco = JSON.parse(readFileSync(`${SAMPLES}/annotations.coco.json`, 'utf8')) as Coco;

  /** The published box of a photo, as fractions of the image. */
  function publishedBox(file: string) {
    const image = coco.images.find((entry) => entry.file_name === file)!;
    const [x, y, width, height] = coco.annotations.find((annotation) => annotation.image_id === image.id)!.bbox;
    return { x: x / image.width, y: y / image.height, width: width / image.width, height: height / image.height };
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    await testApp.app.listen(0, '127.0.0.1');
    const user = await registerAndLogIn(testApp);
    auth = user.auth;
    ({ trainer } = await sdkClients(testApp, user.auth));
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('proposes, from the pretrained backbone, a box within IoU 0.5 of the published fork on each photo', async () => {
    const project = await trainer.createProject('Forks', { domainId: DETECTION_DOMAIN });
    const summary = await trainer.createImagesFromFiles(project.id!, {
      images: PHOTOS.map((name) => ({ name, contents: readFileSync(`${SAMPLES}/images/${name}`) })),
    });
    expect(summary.isBatchSuccessful).toBe(true);
    for (const [index, file] of PHOTOS.entries()) {
      const imageId = summary.images![index].image!.id!;
      const result = await trainer.getImageRegionProposals(project.id!, imageId);
      expect(result).toMatchObject({ projectId: project.id, imageId });
      const proposals = result.proposals!;
      expect(proposals.length).toBeGreaterThan(0);
      expect(proposals.length).toBeLessThanOrEqual(50);
      const confidences = proposals.map((proposal) => proposal.confidence!);
      expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
      expect(confidences.every((confidence) => confidence > 0 && confidence <= 1)).toBe(true);
      const best = Math.max(...proposals.map((proposal) => iou(proposal.boundingBox!, publishedBox(file))));
      expect([file, best >= 0.5]).toEqual([file, true]);

      // The native route answers the same boxes, saying they come from the backbone.
      const native = await testApp.http
        .get(`/v1/projects/${project.id}/images/${imageId}/region-proposals`)
        .set('Authorization', auth)
        .expect(200);
      expect(native.body).toMatchObject({ projectId: project.id, imageId, source: 'backbone', iterationId: null });
      expect(native.body.proposals).toEqual(
        proposals.map(({ confidence, boundingBox }) => ({
          confidence,
          box: { x: boundingBox!.left, y: boundingBox!.top, width: boundingBox!.width, height: boundingBox!.height },
        })),
      );
    }
  }, 120_000);
});
