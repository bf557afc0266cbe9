import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { ApiClient } from '../support/api-client.js';
import { registerAndLogIn, startTestApp, type TestApp } from '../support/test-app.js';

interface Issue {
  file: string;
  annotation: number;
  annotationId?: number;
  code: string;
  action: string;
}

describe('imports are all-or-reported, and names hold only storable characters', () => {
  let testApp: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  const importZip = (projectId: string, files: Record<string, Uint8Array>) =>
    client.http
      .post(`/v1/projects/${projectId}/images/import`)
      .set('Authorization', client.auth)
      .attach('archive', Buffer.from(zipSync(files)), { filename: 'dataset.zip', contentType: 'application/zip' });
  const labelsOf = async (projectId: string) =>
    (await client.http.get(`/v1/projects/${projectId}`).set('Authorization', client.auth).expect(200)).body.labels.map(
      (label: { name: string }) => label.name,
    );
  const images = async (projectId: string) =>
    (await client.http.get(`/v1/projects/${projectId}/images`).set('Authorization', client.auth).expect(200)).body
      .items;

  it('reports every COCO annotation it drops or cuts, per image and for unknown image ids (207)', async () => {
    const project = await client.createProject('detection', [], 'coco report');
    const coco = {
      images: [{ id: 1, file_name: 'a.png', width: 20, height: 10 }],
      categories: [{ id: 1, name: 'car' }],
      annotations: [
        { id: 10, image_id: 1, category_id: 1, bbox: [2, 1, 10, 5] },
        { id: 11, image_id: 99, category_id: 1, bbox: [0, 0, 5, 5] },
        { id: 12, image_id: 1, category_id: 7, bbox: [0, 0, 5, 5] },
        { id: 13, image_id: 1, category_id: 1, bbox: [15, 5, 10, 10] },
        { id: 14, image_id: 1, category_id: 1, bbox: [0, 0, 5e-324, 5] },
        { id: 15, image_id: 1, category_id: 1, bbox: [0, 0, 'wide', 5] },
        { id: 16, image_id: 1, category_id: 1, bbox: [30, 30, 5, 5] },
      ],
    };
    const response = await importZip(project.id, {
      'annotations.json': Buffer.from(JSON.stringify(coco)),
      'a.png': await generateImage(31, { width: 20, height: 10 }),
    });
    expect(response.status).toBe(207);
    expect(response.body.unmatchedAnnotations).toEqual([
      expect.objectContaining({
        file: 'annotations.json',
        annotation: 1,
        annotationId: 11,
        code: 'UNKNOWN_IMAGE_ID',
        action: 'dropped',
      }),
    ]);
    const [item] = response.body.items;
    expect(item).toMatchObject({ filename: 'a.png', status: 'created' });
    expect(item.annotationIssues.map((issue: Issue) => [issue.annotationId, issue.code, issue.action])).toEqual([
      [12, 'UNKNOWN_CATEGORY_ID', 'dropped'],
      [13, 'BOX_CLAMPED', 'changed'],
      [14, 'BOX_TOO_SMALL', 'dropped'],
      [15, 'INVALID_BBOX', 'dropped'],
      [16, 'BOX_EMPTY', 'dropped'],
    ]);
    const [image] = await images(project.id);
    expect(image.regions.map(({ x, y, width, height }: Record<string, number>) => [x, y, width, height])).toEqual([
      [0.1, 0.1, 0.5, 0.5],
      [0.75, 0.5, 0.25, 0.5],
    ]);
  });

  it('creates no label when the import is refused because no image can be taken (400)', async () => {
    const project = await client.createProject('classification', [], 'refused import');
    const response = await importZip(project.id, {
      'horse/1.png': Buffer.from('not an image'),
      'zebra/2.png': Buffer.from('nor this'),
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('UNSUPPORTED_IMAGE');
    expect(await labelsOf(project.id)).toEqual([]);

    const coco = await client.createProject('detection', [], 'refused coco');
    const annotations = {
      images: [{ id: 1, file_name: 'a.png', width: 4, height: 4 }],
      categories: [{ id: 1, name: 'truck' }],
      annotations: [{ image_id: 1, category_id: 1, bbox: [0, 0, 2, 2] }],
    };
    const refused = await importZip(coco.id, {
      'annotations.json': Buffer.from(JSON.stringify(annotations)),
      'a.png': Buffer.from('broken'),
    });
    expect(refused.status).toBe(400);
    expect(await labelsOf(coco.id)).toEqual([]);
  });

  it('refuses NUL, control characters and lone surrogates in project, label and category names with 400 INVALID_CHARACTERS', async () => {
    const refused = async (request: Promise<{ status: number; body: { code: string } }>) => {
      const response = await request;
      expect([response.status, response.body.code]).toEqual([400, 'INVALID_CHARACTERS']);
    };
    await refused(
      client.http
        .post('/v1/projects')
        .set('Authorization', client.auth)
        .send({ name: 'nul\u0000name', type: 'classification' }),
    );
    await refused(
      client.http
        .post('/v1/projects')
        .set('Authorization', client.auth)
        .send({ name: 'ok', description: 'half \ud83d', type: 'classification' }),
    );
    const project = await client.createProject('detection', ['fine'], 'names');
    await refused(
      client.http
        .post(`/v1/projects/${project.id}/labels`)
        .set('Authorization', client.auth)
        .send({ name: '\udc00cat' }),
    );
    await refused(
      client.http.patch(`/v1/projects/${project.id}`).set('Authorization', client.auth).send({ name: 'bell\u0007' }),
    );
    await refused(
      client.http
        .patch(`/v1/projects/${project.id}/labels/${project.labels.fine}`)
        .set('Authorization', client.auth)
        .send({ name: 'a\u0000' }),
    );

    const coco = {
      images: [{ id: 1, file_name: 'a.png', width: 8, height: 8 }],
      categories: [
        { id: 1, name: 'good' },
        { id: 2, name: 'bad\u0000' },
      ],
      annotations: [
        { image_id: 1, category_id: 1, bbox: [0, 0, 4, 4] },
        { image_id: 1, category_id: 2, bbox: [4, 4, 4, 4] },
      ],
    };
    await refused(
      importZip(project.id, {
        'annotations.json': Buffer.from(JSON.stringify(coco)),
        'a.png': await generateImage(32, { width: 8, height: 8 }),
      }),
    );
    expect(await labelsOf(project.id)).toEqual(['fine']);
    expect(await images(project.id)).toEqual([]);
  });

  it('refuses boxes narrower or lower than 1e-6 of the image (400 REGION_TOO_SMALL)', async () => {
    const project = await client.createProject('detection', ['car'], 'tiny boxes');
    const [uploaded] = await client.upload(project.id, [await generateImage(33)]);
    const put = (width: number) =>
      client.http
        .put(`/v1/projects/${project.id}/images/${uploaded.id}/regions`)
        .set('Authorization', client.auth)
        .send({ regions: [{ label: 'car', x: 0.1, y: 0.1, width, height: 0.5 }] });
    const tiny = await put(5e-324);
    expect([tiny.status, tiny.body.code]).toEqual([400, 'REGION_TOO_SMALL']);
    expect((await put(0.25)).status).toBe(200);
  });
});
