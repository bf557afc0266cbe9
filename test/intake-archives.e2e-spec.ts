import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/** `café` as macOS names files and as a Mac keyboard may send it (decomposed: e + combining acute), and as typed elsewhere. */
const CAFE_DECOMPOSED = 'cafe\u0301';
const CAFE_COMPOSED = 'caf\u00e9';

describe('dataset archives made on a Mac', () => {
  let testApp: TestApp;
  let auth: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    ({ auth } = await registerAndLogIn(testApp));
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('labels the images of a folder with the project’s label of that name, in either Unicode form', async () => {
    const project = await testApp.http
      .post('/v1/projects')
      .set('Authorization', auth)
      .send({ name: 'mac-archive', type: 'classification' })
      .expect(201);
    const projectId = project.body.id as string;
    const label = await testApp.http
      .post(`/v1/projects/${projectId}/labels`)
      .set('Authorization', auth)
      .send({ name: CAFE_DECOMPOSED })
      .expect(201);
    const zip = zipSync({
      [`${CAFE_COMPOSED}/1.png`]: await generateImage(1),
      [`${CAFE_DECOMPOSED}/2.png`]: await generateImage(2),
    });

    const response = await testApp.http
      .post(`/v1/projects/${projectId}/images/import`)
      .set('Authorization', auth)
      .attach('archive', Buffer.from(zip), { filename: 'dataset.zip', contentType: 'application/zip' });

    expect(response.status).toBe(201);
    expect(response.body.labelsCreated).toEqual([]);
    const images = await testApp.http.get(`/v1/projects/${projectId}/images`).set('Authorization', auth).expect(200);
    expect(images.body.items.map((image: { label: { id: string } | null }) => image.label?.id)).toEqual([
      label.body.id,
      label.body.id,
    ]);
  });

  it('reports an image a COCO file names by a file name several folders of the zip hold, and takes the others', async () => {
    const project = await testApp.http
      .post('/v1/projects')
      .set('Authorization', auth)
      .send({ name: 'frames-archive', type: 'detection' })
      .expect(201);
    const coco = {
      images: [
        { id: 1, file_name: 'video1/frame_1.png', width: 24, height: 24 },
        { id: 2, file_name: 'frame_1.png', width: 24, height: 24 },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 12, 12] },
        { id: 2, image_id: 2, category_id: 1, bbox: [0, 0, 12, 12] },
      ],
      categories: [{ id: 1, name: 'car' }],
    };
    const zip = zipSync({
      'annotations/instances_default.json': new TextEncoder().encode(JSON.stringify(coco)),
      'images/video1/frame_1.png': await generateImage(3),
      'images/video2/frame_1.png': await generateImage(4),
    });

    const response = await testApp.http
      .post(`/v1/projects/${project.body.id}/images/import`)
      .set('Authorization', auth)
      .attach('archive', Buffer.from(zip), { filename: 'dataset.zip', contentType: 'application/zip' })
      .expect(207);

    expect(response.body.items).toEqual([
      expect.objectContaining({ filename: 'images/video1/frame_1.png', status: 'created' }),
      expect.objectContaining({
        filename: 'annotations/frame_1.png',
        status: 'rejected',
        error: {
          code: 'AMBIGUOUS_FILE',
          message: expect.stringContaining('images/video1/frame_1.png, images/video2/frame_1.png'),
        },
      }),
    ]);
  });

  it('labels a picture a multilabel zip holds in several label folders with all of them', async () => {
    const project = await testApp.http
      .post('/v1/projects')
      .set('Authorization', auth)
      .send({ name: 'folders-multilabel', type: 'multilabel' })
      .expect(201);
    const picture = await generateImage(5);
    const zip = zipSync({ 'cat/1.png': picture, 'outdoor/1.png': picture, 'cat/2.png': await generateImage(6) });

    const response = await testApp.http
      .post(`/v1/projects/${project.body.id}/images/import`)
      .set('Authorization', auth)
      .attach('archive', Buffer.from(zip), { filename: 'dataset.zip', contentType: 'application/zip' });

    expect(response.body.items.map((item: { status: string }) => item.status)).toEqual([
      'created',
      'created',
      'duplicate',
    ]);
    const images = await testApp.http
      .get(`/v1/projects/${project.body.id}/images`)
      .set('Authorization', auth)
      .expect(200);
    const labelsOf = (filename: string) =>
      images.body.items
        .find((image: { filename: string }) => image.filename === filename)
        .labels.map((label: { name: string }) => label.name)
        .sort();
    expect(labelsOf('cat/1.png')).toEqual(['cat', 'outdoor']);
    expect(labelsOf('cat/2.png')).toEqual(['cat']);
  });
});
