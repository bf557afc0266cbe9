import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

interface Item {
  filename: string;
  status: string;
  id?: string;
  error?: { code: string };
}

describe('dataset import over HTTP', () => {
  let testApp: TestApp;
  let auth: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    ({ auth } = await registerAndLogIn(testApp));
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  async function createProject(type: 'classification' | 'multilabel' | 'detection', labels: string[] = []) {
    const project = await testApp.http
      .post('/v1/projects')
      .set('Authorization', auth)
      .send({ name: `import-${type}`, type })
      .expect(201);
    for (const name of labels) {
      await testApp.http
        .post(`/v1/projects/${project.body.id}/labels`)
        .set('Authorization', auth)
        .send({ name })
        .expect(201);
    }
    return project.body.id as string;
  }

  const importZip = (projectId: string, zip: Uint8Array, fields: Record<string, string> = {}) => {
    let request = testApp.http.post(`/v1/projects/${projectId}/images/import`).set('Authorization', auth);
    for (const [name, value] of Object.entries(fields)) request = request.field(name, value);
    return request.attach('archive', Buffer.from(zip), { filename: 'dataset.zip', contentType: 'application/zip' });
  };

  const list = async (projectId: string, query: Record<string, string> = {}) =>
    (
      await testApp.http
        .get(`/v1/projects/${projectId}/images`)
        .query({ limit: 1000, ...query })
        .set('Authorization', auth)
        .expect(200)
    ).body.items;

  it('imports a classification zip with one folder per class, split folders and a top folder, creating missing labels', async () => {
    const projectId = await createProject('classification', ['Cat']);
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 6; i += 1) files[`pets/train/cat/c${i}.png`] = await generateImage(500 + i);
    for (let i = 0; i < 6; i += 1) files[`pets/train/dog/d${i}.jpg`] = await generateImage(600 + i, { format: 'jpeg' });
    files['pets/val/dog/v0.png'] = await generateImage(700);
    files['pets/test/cat/t0.png'] = await generateImage(701);
    files['pets/README.txt'] = Buffer.from('a readme');
    files['pets/train/cat/broken.png'] = Buffer.from('not a picture');
    files['__MACOSX/pets/._c0.png'] = Buffer.from('resource fork');

    const response = await importZip(projectId, zipSync(files)).expect(207);
    expect(response.body.labelsCreated).toEqual([{ id: expect.any(String), name: 'dog' }]);
    expect(response.body.ignored).toBe(1);
    const byPath = Object.fromEntries(response.body.items.map((item: Item) => [item.filename, item]));
    expect(response.body.items).toHaveLength(15);
    expect(byPath['pets/train/cat/broken.png']).toMatchObject({
      status: 'rejected',
      error: { code: 'UNSUPPORTED_IMAGE' },
    });
    expect(response.body.items.filter((item: Item) => item.status === 'created')).toHaveLength(14);

    expect(await list(projectId, { label: 'cat' })).toHaveLength(7);
    expect(await list(projectId, { label: 'dog' })).toHaveLength(7);
    expect(
      (await list(projectId, { split: 'validation' })).map((image: { filename: string }) => image.filename),
    ).toEqual(['pets/val/dog/v0.png']);
    expect((await list(projectId, { split: 'test' }))[0]).toMatchObject({
      filename: 'pets/test/cat/t0.png',
      label: { name: 'Cat' },
    });
    const analysis = await testApp.http
      .get(`/v1/projects/${projectId}/analysis`)
      .set('Authorization', auth)
      .expect(200);
    expect(analysis.body).toMatchObject({ imageCount: 14, ready: true });

    // The same archive again: everything is a duplicate, nothing new.
    const again = await importZip(projectId, zipSync(files)).expect(207);
    expect(again.body.items.filter((item: Item) => item.status === 'duplicate')).toHaveLength(14);
    expect(await list(projectId)).toHaveLength(14);
  });

  it("imports a multilabel zip: Roboflow's one-hot _classes.csv per split folder, and class folders beside it", async () => {
    const projectId = await createProject('multilabel', ['dog']);
    const files: Record<string, Uint8Array> = {
      'train/_classes.csv': Buffer.from(
        'filename, dog, outdoor, night\n' +
          'a.png,1,1,0\n' +
          'b.png,0,1,1\r\n' +
          '"with, comma.png",1,0,0\n' +
          'none.png,0,0,0\n' +
          'gone.png,1,0,0\n',
      ),
      'train/a.png': await generateImage(801),
      'train/b.png': await generateImage(802),
      'train/with, comma.png': await generateImage(803),
      'train/none.png': await generateImage(804),
      'valid/_classes.csv': Buffer.from('filename,dog,outdoor,night\nv.png,0,0,1\n'),
      'valid/v.png': await generateImage(805),
      'night/n.png': await generateImage(806),
    };
    const response = await importZip(projectId, zipSync(files)).expect(207);
    expect(response.body.labelsCreated.map((label: { name: string }) => label.name).sort()).toEqual([
      'night',
      'outdoor',
    ]);
    const byPath = Object.fromEntries(response.body.items.map((item: Item) => [item.filename, item]));
    expect(byPath['train/gone.png']).toMatchObject({ status: 'rejected', error: { code: 'MISSING_FILE' } });
    const labelsOf = async (filename: string) =>
      (await list(projectId))
        .find((image: { filename: string }) => image.filename === filename)
        .labels.map((label: { name: string }) => label.name)
        .sort();
    expect(await labelsOf('train/a.png')).toEqual(['dog', 'outdoor']);
    expect(await labelsOf('train/b.png')).toEqual(['night', 'outdoor']);
    expect(await labelsOf('train/with, comma.png')).toEqual(['dog']);
    expect(await labelsOf('train/none.png')).toEqual([]);
    expect(await labelsOf('night/n.png')).toEqual(['night']);
    expect(await list(projectId, { split: 'validation' })).toMatchObject([{ filename: 'valid/v.png' }]);
    expect(await list(projectId, { label: 'night' })).toHaveLength(3);

    const broken = zipSync({
      'more/_classes.csv': Buffer.from('filename,dog\n"x.png,1\n'),
      'more/x.png': files['train/a.png'],
    });
    const refused = await importZip(projectId, broken).expect(400);
    expect(refused.body).toMatchObject({ code: 'INVALID_ARCHIVE' });
    expect(refused.body.message).toContain('more/_classes.csv is not a valid CSV file');
    expect(await list(projectId)).toHaveLength(6);
  });

  it('refuses unknown labels when asked not to create them, and a file that is not a zip', async () => {
    const projectId = await createProject('classification', ['cat']);
    const zip = zipSync({ 'horse/h.png': await generateImage(800) });
    const refused = await importZip(projectId, zip, { createLabels: 'false' }).expect(400);
    expect(refused.body).toMatchObject({ code: 'UNKNOWN_LABEL', details: { missing: ['horse'] } });
    const notZip = await importZip(projectId, Buffer.from('definitely not a zip file')).expect(400);
    expect(notZip.body.code).toBe('INVALID_ARCHIVE');
    expect(await list(projectId)).toEqual([]);
  });

  it('imports COCO detection annotations as boxes, fractions of each image, passing over JSON files that are not COCO', async () => {
    const projectId = await createProject('detection');
    const coco = {
      images: [
        { id: 1, file_name: 'a.png', width: 20, height: 10 },
        { id: 2, file_name: 'b.png', width: 16, height: 16 },
        { id: 3, file_name: 'missing.png', width: 16, height: 16 },
      ],
      categories: [
        { id: 0, name: 'objects' },
        { id: 1, name: 'car' },
        { id: 2, name: 'bus' },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [2, 1, 10, 5] },
        { id: 2, image_id: 1, category_id: 2, bbox: [10, 5, 12, 6] },
        { id: 3, image_id: 2, category_id: 1, bbox: [0, 0, 8, 8] },
      ],
    };
    const zip = zipSync({
      'README.dataset.json': Buffer.from(JSON.stringify({ name: 'cars', license: 'CC BY 4.0' })),
      'train/_annotations.coco.json': Buffer.from(JSON.stringify(coco)),
      'train/a.png': await generateImage(900, { width: 20, height: 10 }),
      'train/b.png': await generateImage(901, { width: 16, height: 16 }),
    });
    const response = await importZip(projectId, zip).expect(207);
    expect(response.body.ignored).toBe(1);
    expect(response.body.labelsCreated.map((label: { name: string }) => label.name)).toEqual(['car', 'bus']);
    expect(response.body.items.map((item: Item) => [item.filename, item.status, item.error?.code])).toEqual([
      ['train/a.png', 'created', undefined],
      ['train/b.png', 'created', undefined],
      ['train/missing.png', 'rejected', 'MISSING_FILE'],
    ]);
    const [a] = await list(projectId, { label: 'bus' });
    expect(a.filename).toBe('train/a.png');
    expect(a.regions).toEqual([
      { label: { id: expect.any(String), name: 'car' }, x: 0.1, y: 0.1, width: 0.5, height: 0.5 },
      { label: { id: expect.any(String), name: 'bus' }, x: 0.5, y: 0.5, width: 0.5, height: 0.5 },
    ]);
    expect(await list(projectId, { label: 'car' })).toHaveLength(2);
  });

  it('turns the boxes of a sideways phone photo upright when the COCO file gives the size of its stored pixels', async () => {
    const projectId = await createProject('detection', ['car']);
    // Stored 40×20 with EXIF orientation 6: shown upright 20×40 (rotated a quarter turn clockwise).
    const sideways = async (seed: number) =>
      sharp(await generateImage(seed, { width: 40, height: 20 }))
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer();
    const coco = {
      images: [
        { id: 1, file_name: 'annotated-sideways.jpg', width: 40, height: 20 },
        { id: 2, file_name: 'annotated-upright.jpg', width: 20, height: 40 },
      ],
      categories: [{ id: 1, name: 'car' }],
      annotations: [
        // The left quarter of the stored pixels: the top quarter of the photo shown upright.
        { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 20] },
        { id: 2, image_id: 2, category_id: 1, bbox: [0, 0, 20, 10] },
      ],
    };
    const zip = zipSync({
      'annotations.coco.json': Buffer.from(JSON.stringify(coco)),
      'annotated-sideways.jpg': await sideways(902),
      'annotated-upright.jpg': await sideways(903),
    });
    const response = await importZip(projectId, zip).expect(207);
    const byName = Object.fromEntries(
      response.body.items.map((item: Item & { annotationIssues?: { code: string }[] }) => [item.filename, item]),
    );
    expect(byName['annotated-sideways.jpg'].annotationIssues).toEqual([
      expect.objectContaining({ code: 'BOXES_TURNED_UPRIGHT', action: 'changed', annotation: -1 }),
    ]);
    expect(byName['annotated-upright.jpg'].annotationIssues).toBeUndefined();
    const images = await list(projectId);
    for (const name of ['annotated-sideways.jpg', 'annotated-upright.jpg']) {
      const image = images.find((candidate: { filename: string }) => candidate.filename === name);
      expect([image.width, image.height]).toEqual([20, 40]);
      expect(image.regions).toEqual([
        { label: { id: expect.any(String), name: 'car' }, x: 0, y: 0, width: 1, height: 0.25 },
      ]);
    }
  });
});
