import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore } from '@diyml/event-store';
import { generateImage, hugePngHeader, truncatedJpeg } from '@diyml/datasets/testing/test-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

interface Item {
  filename: string;
  status: string;
  id?: string;
  error?: { code: string; message: string };
}

describe('datasets over HTTP', () => {
  let testApp: TestApp;
  let auth: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    ({ auth } = await registerAndLogIn(testApp));
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  async function createProject(type: 'classification' | 'detection', labels: string[]) {
    const project = await testApp.http
      .post('/v1/projects')
      .set('Authorization', auth)
      .send({ name: `p-${type}-${Date.now()}`, type })
      .expect(201);
    const created: Record<string, string> = {};
    for (const name of labels) {
      const label = await testApp.http
        .post(`/v1/projects/${project.body.id}/labels`)
        .set('Authorization', auth)
        .send({ name })
        .expect(201);
      created[name] = label.body.id;
    }
    return { id: project.body.id as string, labels: created };
  }

  function upload(
    projectId: string,
    files: { name: string; bytes: Buffer }[],
    fields: Record<string, string> = {},
    as = auth,
  ) {
    let request = testApp.http.post(`/v1/projects/${projectId}/images`).set('Authorization', as);
    for (const [name, value] of Object.entries(fields)) request = request.field(name, value);
    for (const file of files)
      request = request.attach('images', file.bytes, { filename: file.name, contentType: 'image/png' });
    return request;
  }

  const images = (seeds: number[], format: 'png' | 'jpeg' = 'png') =>
    Promise.all(
      seeds.map(async (seed) => ({
        name: `img-${seed}.${format === 'png' ? 'png' : 'jpg'}`,
        bytes: await generateImage(seed, { format }),
      })),
    );

  const eventCount = async () => (await testApp.app.get(EventStore).readAll()).length;
  const blobCount = () => {
    const directory = join(testApp.dataDir, 'blobs');
    try {
      return readdirSync(directory).reduce((sum, folder) => sum + readdirSync(join(directory, folder)).length, 0);
    } catch {
      return 0;
    }
  };

  it('uploads 200 images in a few requests, lists, filters, labels, relabels, excludes and deletes them; the analysis agrees', async () => {
    const project = await createProject('classification', ['cat', 'dog', 'bird']);
    const seeds = Array.from({ length: 200 }, (_, i) => 1000 + i);
    const created: string[] = [];
    for (let batch = 0; batch < 4; batch += 1) {
      const files = await images(seeds.slice(batch * 50, batch * 50 + 50), batch % 2 ? 'jpeg' : 'png');
      const fields: Record<string, string> =
        batch === 0 ? { label: 'cat' } : batch === 1 ? { label: project.labels.dog, split: 'validation' } : {};
      const response = await upload(project.id, files, fields).expect(201);
      expect(response.body.items).toHaveLength(50);
      expect(response.body.items.every((item: Item) => item.status === 'created')).toBe(true);
      expect(response.body.items[0].filename).toBe(files[0].name);
      created.push(...response.body.items.map((item: Item) => item.id!));
    }

    // Paging through everything, in upload order.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await testApp.http
        .get(`/v1/projects/${project.id}/images`)
        .query({ limit: 64, ...(cursor ? { cursor } : {}) })
        .set('Authorization', auth)
        .expect(200);
      seen.push(...page.body.items.map((item) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(created);

    const first = await testApp.http
      .get(`/v1/projects/${project.id}/images/${created[0]}`)
      .set('Authorization', auth)
      .expect(200);
    expect(first.body).toEqual({
      id: created[0],
      filename: 'img-1000.png',
      width: expect.any(Number),
      height: expect.any(Number),
      format: 'png',
      bytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      label: { id: project.labels.cat, name: 'cat' },
      labels: [{ id: project.labels.cat, name: 'cat' }],
      regions: [],
      split: 'train',
      included: true,
      metadata: {},
      uploadedAt: expect.any(String),
      revision: 0,
    });
    expect(first.headers.etag).toBe('W/"0"');
    const jpeg = await testApp.http
      .get(`/v1/projects/${project.id}/images/${created[60]}`)
      .set('Authorization', auth)
      .expect(200);
    expect(jpeg.body).toMatchObject({ format: 'jpeg', label: { name: 'dog' }, split: 'validation' });

    // Original bytes come back as uploaded.
    const original = await generateImage(1000);
    const content = await testApp.http
      .get(`/v1/projects/${project.id}/images/${created[0]}/content`)
      .set('Authorization', auth)
      .buffer(true)
      .parse((response, callback) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => callback(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(content.headers['content-type']).toBe('image/png');
    expect((content.body as Buffer).equals(original)).toBe(true);
    expect(first.body.sha256).toBe(createHash('sha256').update(original).digest('hex'));

    const count = async (query: Record<string, string>) => {
      const response = await testApp.http
        .get(`/v1/projects/${project.id}/images`)
        .query({ limit: 1000, ...query })
        .set('Authorization', auth)
        .expect(200);
      return response.body.items.length as number;
    };
    expect(await count({ label: 'cat' })).toBe(50);
    expect(await count({ label: 'DOG' })).toBe(50);
    expect(await count({ unlabeled: 'true' })).toBe(100);
    expect(await count({ split: 'validation' })).toBe(50);

    // Label 30 unlabeled images as bird one by one, 20 more as bird in a batch; relabel 10 cats as dogs.
    for (const id of created.slice(100, 130)) {
      await testApp.http
        .put(`/v1/projects/${project.id}/images/${id}/label`)
        .set('Authorization', auth)
        .send({ label: 'bird' })
        .expect(200);
    }
    const batch = await testApp.http
      .post(`/v1/projects/${project.id}/images/labels`)
      .set('Authorization', auth)
      .send({ items: created.slice(130, 150).map((imageId) => ({ imageId, label: project.labels.bird })) })
      .expect(200);
    expect(batch.body).toMatchObject({ updated: 20, unchanged: 0, failed: 0 });
    for (const id of created.slice(0, 10)) {
      const relabeled = await testApp.http
        .put(`/v1/projects/${project.id}/images/${id}/label`)
        .set('Authorization', auth)
        .send({ label: 'dog' })
        .expect(200);
      expect(relabeled.body.label).toEqual({ id: project.labels.dog, name: 'dog' });
      expect(relabeled.headers.etag).toBe('W/"1"');
    }
    // Exclude 5 birds, move 5 cats to test, delete 10 unlabeled images and clear the label of 2 cats.
    for (const id of created.slice(100, 105)) {
      const excluded = await testApp.http
        .patch(`/v1/projects/${project.id}/images/${id}`)
        .set('Authorization', auth)
        .send({ included: false })
        .expect(200);
      expect(excluded.body.included).toBe(false);
    }
    for (const id of created.slice(10, 15)) {
      await testApp.http
        .patch(`/v1/projects/${project.id}/images/${id}`)
        .set('Authorization', auth)
        .send({ split: 'test' })
        .expect(200);
    }
    for (const id of created.slice(190, 200)) {
      await testApp.http.delete(`/v1/projects/${project.id}/images/${id}`).set('Authorization', auth).expect(204);
    }
    await testApp.http.get(`/v1/projects/${project.id}/images/${created[199]}`).set('Authorization', auth).expect(404);
    for (const id of created.slice(15, 17)) {
      await testApp.http
        .put(`/v1/projects/${project.id}/images/${id}/label`)
        .set('Authorization', auth)
        .send({ label: null })
        .expect(200);
    }

    expect(await count({ label: 'cat' })).toBe(38);
    expect(await count({ label: 'dog' })).toBe(60);
    expect(await count({ label: 'bird' })).toBe(50);
    expect(await count({ unlabeled: 'true' })).toBe(42);
    expect(await count({ included: 'false' })).toBe(5);
    expect(await count({ label: 'bird', included: 'true' })).toBe(45);
    expect(await count({ split: 'test' })).toBe(5);

    const analysis = await testApp.http
      .get(`/v1/projects/${project.id}/analysis`)
      .set('Authorization', auth)
      .expect(200);
    expect(analysis.body).toMatchObject({
      imageCount: 190,
      labeledCount: 148,
      unlabeledCount: 42,
      excludedCount: 5,
      splits: { train: 135, validation: 50, test: 5 },
      formats: { png: 100, jpeg: 90 },
      duplicates: { count: 0, groups: [] },
      ready: true,
      problems: [],
    });
    expect(analysis.body.perLabel).toEqual([
      { label: { id: project.labels.cat, name: 'cat' }, count: 38, trainCount: 33 },
      { label: { id: project.labels.dog, name: 'dog' }, count: 60, trainCount: 10 },
      { label: { id: project.labels.bird, name: 'bird' }, count: 50, trainCount: 45 },
    ]);
    expect(analysis.body.warnings.map((warning: { code: string }) => warning.code)).toEqual(['CLASS_IMBALANCE']);
    expect(analysis.body.imageSizes.width).toEqual({ min: expect.any(Number), median: expect.any(Number), max: 32 });

    // The projects context reads label image counts from label-stats.
    const labels = await testApp.http.get(`/v1/projects/${project.id}/labels`).set('Authorization', auth).expect(200);
    const counts = Object.fromEntries(
      (Array.isArray(labels.body) ? labels.body : labels.body.items).map(
        (label: { name: string; imageCount: number }) => [label.name, label.imageCount],
      ),
    );
    expect(counts).toEqual({ cat: 38, dog: 60, bird: 50 });

    // A deleted image's bytes can be uploaded again, as a new image.
    const again = await upload(project.id, await images([1199])).expect(201);
    expect(again.body.items[0]).toMatchObject({ status: 'created' });
    expect(again.body.items[0].id).not.toBe(created[199]);
  });

  it('marks the same bytes as duplicate, within a request, across requests and when uploaded at the same time', async () => {
    const project = await createProject('classification', ['a', 'b']);
    const [one, two] = await images([1, 2]);
    const first = await upload(project.id, [one, one, two]).expect(201);
    expect(first.body.items.map((item: Item) => item.status)).toEqual(['created', 'duplicate', 'created']);
    expect(first.body.items[1].id).toBe(first.body.items[0].id);
    const second = await upload(project.id, [{ name: 'renamed.png', bytes: one.bytes }]).expect(201);
    expect(second.body.items[0]).toEqual({ filename: 'renamed.png', status: 'duplicate', id: first.body.items[0].id });

    const [three] = await images([3]);
    const racing = await Promise.all([1, 2, 3, 4].map(() => upload(project.id, [three]).expect(201)));
    const statuses = racing.map((response) => response.body.items[0].status).sort();
    expect(statuses).toEqual(['created', 'duplicate', 'duplicate', 'duplicate']);
    expect(new Set(racing.map((response) => response.body.items[0].id)).size).toBe(1);
    const listed = await testApp.http.get(`/v1/projects/${project.id}/images`).set('Authorization', auth).expect(200);
    expect(listed.body.items).toHaveLength(3);
  });

  it('rejects bad files one by one with a clear error, leaving no event and no blob behind', async () => {
    const project = await createProject('classification', ['a']);
    const [good] = await images([42]);
    const bad = [
      { name: 'notes.png', bytes: Buffer.from('just some text, not a picture') },
      { name: 'cut.jpg', bytes: await truncatedJpeg() },
      { name: 'bomb.png', bytes: hugePngHeader(20000, 20000) },
      { name: 'empty.png', bytes: Buffer.alloc(0) },
    ];
    const eventsBefore = await eventCount();
    const blobsBefore = blobCount();
    const response = await upload(project.id, [...bad, good]).expect(207);
    expect(response.body.items).toEqual([
      { filename: 'notes.png', status: 'rejected', error: { code: 'UNSUPPORTED_IMAGE', message: expect.any(String) } },
      { filename: 'cut.jpg', status: 'rejected', error: { code: 'CORRUPT_IMAGE', message: expect.any(String) } },
      {
        filename: 'bomb.png',
        status: 'rejected',
        error: { code: 'IMAGE_TOO_LARGE', message: expect.stringContaining('20000x20000') },
      },
      { filename: 'empty.png', status: 'rejected', error: { code: 'EMPTY_FILE', message: expect.any(String) } },
      { filename: 'img-42.png', status: 'created', id: expect.any(String) },
    ]);
    // Only the good file left anything: a content claim, its upload, and one blob.
    expect((await eventCount()) - eventsBefore).toBe(2);
    expect(blobCount() - blobsBefore).toBe(1);

    const alone = await upload(project.id, [bad[0]]).expect(400);
    expect(alone.body).toMatchObject({
      statusCode: 400,
      code: 'UNSUPPORTED_IMAGE',
      message: expect.stringContaining('notes.png'),
    });
    expect(alone.body.details.items).toHaveLength(1);
    const allBad = await upload(project.id, bad.slice(0, 2)).expect(400);
    expect(allBad.body.code).toBe('IMAGES_REJECTED');
    expect((await eventCount()) - eventsBefore).toBe(2);
  });

  it('answers an upload without files, with a bad label or split, or to a foreign project with a clear error', async () => {
    const project = await createProject('classification', ['cat']);
    const other = await createProject('classification', ['horse']);
    const files = await images([7]);
    const none = await testApp.http
      .post(`/v1/projects/${project.id}/images`)
      .set('Authorization', auth)
      .field('label', 'cat')
      .expect(400);
    expect(none.body.code).toBe('NO_FILES');
    const json = await testApp.http
      .post(`/v1/projects/${project.id}/images`)
      .set('Authorization', auth)
      .send({})
      .expect(400);
    expect(json.body.code).toBe('NO_FILES');
    expect((await upload(project.id, files, { label: 'horse' }).expect(400)).body).toMatchObject({
      code: 'UNKNOWN_LABEL',
    });
    expect((await upload(project.id, files, { label: other.labels.horse }).expect(400)).body).toMatchObject({
      code: 'LABEL_NOT_IN_PROJECT',
    });
    expect((await upload(project.id, files, { split: 'holdout' }).expect(400)).body).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const wrongField = await testApp.http
      .post(`/v1/projects/${project.id}/images`)
      .set('Authorization', auth)
      .attach('image', files[0].bytes, 'x.png')
      .expect(400);
    expect(wrongField.body.code).toBe('UNEXPECTED_FILE_FIELD');
    const stranger = await registerAndLogIn(testApp);
    expect((await upload(project.id, files, {}, stranger.auth).expect(404)).body.code).toBe('PROJECT_NOT_FOUND');
    const listed = await testApp.http.get(`/v1/projects/${project.id}/images`).set('Authorization', auth).expect(200);
    expect(listed.body.items).toEqual([]);
  });

  it('refuses more files than allowed per request with 413 TOO_MANY_FILES, and an oversized file on its own', async () => {
    const project = await createProject('classification', ['cat']);
    const tiny = await generateImage(5);
    let request = testApp.http.post(`/v1/projects/${project.id}/images`).set('Authorization', auth);
    for (let i = 0; i < 501; i += 1) request = request.attach('images', tiny, `f${i}.png`);
    const tooMany = await request.expect(413);
    expect(tooMany.body.code).toBe('TOO_MANY_FILES');

    const big = Buffer.concat([await generateImage(6), Buffer.alloc(32 * 1024 * 1024)]);
    const mixed = await upload(project.id, [
      { name: 'big.png', bytes: big },
      { name: 'ok.png', bytes: tiny },
    ]).expect(207);
    expect(mixed.body.items.map((item: Item) => [item.status, item.error?.code])).toEqual([
      ['rejected', 'FILE_TOO_LARGE'],
      ['created', undefined],
    ]);
  });

  it('labels detection images with boxes, validated against the image and the project labels', async () => {
    const project = await createProject('detection', ['car', 'bus']);
    const classification = await createProject('classification', ['cat']);
    const [file] = await images([77]);
    const uploaded = await upload(project.id, [file]).expect(201);
    const imageId = uploaded.body.items[0].id;
    const url = `/v1/projects/${project.id}/images/${imageId}`;

    const set = await testApp.http
      .put(`${url}/regions`)
      .set('Authorization', auth)
      .send({
        regions: [
          { label: 'car', x: 0.1, y: 0.1, width: 0.5, height: 0.4 },
          { label: project.labels.bus, x: 0.5, y: 0.5, width: 0.5, height: 0.5 },
        ],
      })
      .expect(200);
    expect(set.body.regions).toEqual([
      { label: { id: project.labels.car, name: 'car' }, x: 0.1, y: 0.1, width: 0.5, height: 0.4 },
      { label: { id: project.labels.bus, name: 'bus' }, x: 0.5, y: 0.5, width: 0.5, height: 0.5 },
    ]);
    const before = await eventCount();
    const bad = async (regions: unknown[], status: number, code: string) => {
      const response = await testApp.http
        .put(`${url}/regions`)
        .set('Authorization', auth)
        .send({ regions })
        .expect(status);
      expect(response.body.code).toBe(code);
    };
    await bad([{ label: 'car', x: 0.8, y: 0.1, width: 0.5, height: 0.4 }], 400, 'REGION_OUT_OF_BOUNDS');
    await bad([{ label: 'car', x: -0.1, y: 0.1, width: 0.5, height: 0.4 }], 400, 'REGION_OUT_OF_BOUNDS');
    await bad([{ label: 'car', x: 0.1, y: 0.1, width: 0, height: 0.4 }], 400, 'REGION_EMPTY');
    await bad([{ label: 'truck', x: 0.1, y: 0.1, width: 0.5, height: 0.4 }], 400, 'UNKNOWN_LABEL');
    await bad(
      [{ label: classification.labels.cat, x: 0.1, y: 0.1, width: 0.5, height: 0.4 }],
      400,
      'LABEL_NOT_IN_PROJECT',
    );
    await bad([{ label: 'car', x: '0.1', y: 0.1, width: 0.5, height: 0.4 }], 400, 'VALIDATION_FAILED');
    const label = await testApp.http.put(`${url}/label`).set('Authorization', auth).send({ label: 'car' }).expect(400);
    expect(label.body.code).toBe('WRONG_PROJECT_TYPE');
    expect(await eventCount()).toBe(before);

    const unlabeled = await testApp.http
      .get(`/v1/projects/${project.id}/images`)
      .query({ label: 'bus' })
      .set('Authorization', auth)
      .expect(200);
    expect(unlabeled.body.items.map((item: { id: string }) => item.id)).toEqual([imageId]);
    const analysis = await testApp.http
      .get(`/v1/projects/${project.id}/analysis`)
      .set('Authorization', auth)
      .expect(200);
    expect(analysis.body.perLabel).toEqual([
      { label: { id: project.labels.car, name: 'car' }, count: 1, trainCount: 1, boxes: 1, trainBoxes: 1 },
      { label: { id: project.labels.bus, name: 'bus' }, count: 1, trainCount: 1, boxes: 1, trainBoxes: 1 },
    ]);
    expect(analysis.body.ready).toBe(false);
    expect(analysis.body.problems.map((problem: { code: string }) => problem.code)).toEqual([
      'TOO_FEW_BOXES',
      'TOO_FEW_BOXES',
    ]);
  });

  it('reports per-item errors in a batch, honours If-Match, and shows a removed label as none', async () => {
    const project = await createProject('classification', ['cat', 'dog']);
    const uploaded = await upload(project.id, await images([301, 302])).expect(201);
    const [a, b] = uploaded.body.items.map((item: Item) => item.id!);
    const batch = await testApp.http
      .post(`/v1/projects/${project.id}/images/labels`)
      .set('Authorization', auth)
      .send({
        items: [
          { imageId: a, label: 'cat' },
          { imageId: b, label: 'unicorn' },
          { imageId: '00000000-0000-4000-8000-000000000000', label: 'cat' },
        ],
      })
      .expect(207);
    expect(batch.body).toEqual({
      items: [
        { imageId: a, status: 'updated' },
        { imageId: b, status: 'failed', error: { code: 'UNKNOWN_LABEL', message: expect.any(String) } },
        {
          imageId: '00000000-0000-4000-8000-000000000000',
          status: 'failed',
          error: { code: 'IMAGE_NOT_FOUND', message: expect.any(String) },
        },
      ],
      updated: 1,
      unchanged: 0,
      failed: 2,
    });

    const stale = await testApp.http
      .put(`/v1/projects/${project.id}/images/${a}/label`)
      .set('Authorization', auth)
      .set('If-Match', 'W/"0"')
      .send({ label: 'dog' })
      .expect(412);
    expect(stale.body.code).toBe('REVISION_MISMATCH');
    await testApp.http
      .put(`/v1/projects/${project.id}/images/${a}/label`)
      .set('Authorization', auth)
      .set('If-Match', 'W/"1"')
      .send({ label: 'dog' })
      .expect(200);

    await testApp.http
      .delete(`/v1/projects/${project.id}/labels/${project.labels.dog}`)
      .set('Authorization', auth)
      .expect(204);
    const image = await testApp.http
      .get(`/v1/projects/${project.id}/images/${a}`)
      .set('Authorization', auth)
      .expect(200);
    expect(image.body.label).toBeNull();
    const unlabeled = await testApp.http
      .get(`/v1/projects/${project.id}/images`)
      .query({ unlabeled: 'true' })
      .set('Authorization', auth)
      .expect(200);
    expect(unlabeled.body.items).toHaveLength(2);
  });

  it('answers 404 for images of another project and 400 for ids that are not UUIDs', async () => {
    const project = await createProject('classification', ['cat']);
    const other = await createProject('classification', ['cat']);
    const uploaded = await upload(project.id, await images([401])).expect(201);
    const imageId = uploaded.body.items[0].id;
    const wrong = await testApp.http
      .get(`/v1/projects/${other.id}/images/${imageId}`)
      .set('Authorization', auth)
      .expect(404);
    expect(wrong.body.code).toBe('IMAGE_NOT_FOUND');
    await testApp.http
      .put(`/v1/projects/${other.id}/images/${imageId}/label`)
      .set('Authorization', auth)
      .send({ label: 'cat' })
      .expect(404);
    await testApp.http.get(`/v1/projects/${other.id}/images/${imageId}/content`).set('Authorization', auth).expect(404);
    const invalid = await testApp.http
      .get(`/v1/projects/${project.id}/images/not-a-uuid`)
      .set('Authorization', auth)
      .expect(400);
    expect(invalid.body.code).toBe('INVALID_ID');
  });
});
