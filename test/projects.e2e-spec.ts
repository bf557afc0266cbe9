import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '@diyml/event-store';
import { projectStream } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { startTestAppWithSlowAppends } from './support/slow-append-event-store.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

type User = Awaited<ReturnType<typeof registerAndLogIn>>;

const CLASSIFICATION_DEFAULTS = {
  learningRate: 0.001,
  epochs: 10,
  batchSize: 32,
  imageSize: 64,
  architecture: 'auto',
  validationSplit: 0.2,
  augmentation: { horizontalFlip: true, cropScale: 0.85, brightness: 0.15 },
  seed: 42,
  earlyStopping: null,
  baseIterationId: null,
  backbone: null,
  fineTune: 0,
};

const fieldsOf = (body: { details?: { field: string }[] }) => (body.details ?? []).map((detail) => detail.field);

describe('projects over HTTP', () => {
  let testApp: TestApp;
  let ada: User;

  const createProject = async (user: User, body: Record<string, unknown> = { name: 'Cats', type: 'classification' }) =>
    (await testApp.http.post('/v1/projects').set('Authorization', user.auth).send(body).expect(201)).body;
  const getProject = (user: User, id: string) => testApp.http.get(`/v1/projects/${id}`).set('Authorization', user.auth);
  const addLabel = async (user: User, projectId: string, name: string) =>
    (
      await testApp.http
        .post(`/v1/projects/${projectId}/labels`)
        .set('Authorization', user.auth)
        .send({ name })
        .expect(201)
    ).body;

  beforeAll(async () => {
    testApp = await startTestApp();
    ada = await registerAndLogIn(testApp);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  describe('create, read, list', () => {
    it('creates a classification project with the default training configuration', async () => {
      const response = await testApp.http
        .post('/v1/projects')
        .set('Authorization', ada.auth)
        .send({ name: '  Cats and dogs ', type: 'classification', description: 'pets' })
        .expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Cats and dogs',
        type: 'classification',
        description: 'pets',
        labels: [],
        trainingConfig: CLASSIFICATION_DEFAULTS,
        createdAt: expect.any(String),
        updatedAt: response.body.createdAt,
        revision: 0,
      });
      expect(response.headers.etag).toBe('W/"0"');
      expect(response.headers.location).toBe(`/v1/projects/${response.body.id}`);

      const read = await getProject(ada, response.body.id).expect(200);
      expect(read.body).toEqual(response.body);
      expect(read.headers.etag).toBe('W/"0"');
    });

    it('gives a detection project the detection defaults and an empty description', async () => {
      const project = await createProject(ada, { name: 'Boxes', type: 'detection' });
      expect(project.description).toBe('');
      expect(project.trainingConfig).toEqual({
        ...CLASSIFICATION_DEFAULTS,
        imageSize: 128,
        architecture: 'backbone-detector',
      });
    });

    it('accepts a name of exactly 100 characters', async () => {
      expect((await createProject(ada, { name: 'n'.repeat(100), type: 'detection' })).name).toHaveLength(100);
    });

    it.each([
      ['a missing name', { type: 'classification' }, 'name'],
      ['a number as name', { name: 42, type: 'classification' }, 'name'],
      ['a blank name', { name: '   ', type: 'classification' }, 'name'],
      ['a 101-character name', { name: 'x'.repeat(101), type: 'classification' }, 'name'],
      ['a missing type', { name: 'ok' }, 'type'],
      ['an unknown type', { name: 'ok', type: 'segmentation' }, 'type'],
      ['a number as type', { name: 'ok', type: 7 }, 'type'],
      ['a 2001-character description', { name: 'ok', type: 'detection', description: 'd'.repeat(2001) }, 'description'],
      ['a list as description', { name: 'ok', type: 'detection', description: ['list'] }, 'description'],
      ['an unknown field', { name: 'ok', type: 'detection', ownerId: 'someone-else' }, 'ownerId'],
    ])('refuses %s with 400 VALIDATION_FAILED naming it', async (_, body, field) => {
      const response = await testApp.http.post('/v1/projects').set('Authorization', ada.auth).send(body).expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(fieldsOf(response.body)).toContain(field);
    });

    it('lists only your projects, oldest first, a page at a time', async () => {
      const owner = await registerAndLogIn(testApp);
      const created = [];
      for (const name of ['one', 'two', 'three'])
        created.push(await createProject(owner, { name, type: 'classification' }));
      await createProject(ada, { name: 'not theirs', type: 'classification' });

      const first = await testApp.http.get('/v1/projects?limit=2').set('Authorization', owner.auth).expect(200);
      expect(first.body.items.map((project: { name: string }) => project.name)).toEqual(['one', 'two']);
      expect(first.body.items[0]).toEqual(created[0]);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await testApp.http
        .get('/v1/projects')
        .query({ limit: 2, cursor: first.body.nextCursor })
        .set('Authorization', owner.auth)
        .expect(200);
      expect(second.body).toEqual({ items: [created[2]], nextCursor: null });

      const everything = await testApp.http.get('/v1/projects').set('Authorization', owner.auth).expect(200);
      expect(everything.body.items).toHaveLength(3);
    });

    it('refuses bad paging parameters', async () => {
      for (const query of ['limit=0', 'limit=1001', 'limit=abc']) {
        const response = await testApp.http.get(`/v1/projects?${query}`).set('Authorization', ada.auth).expect(400);
        expect(fieldsOf(response.body)).toContain('limit');
      }
      const badCursor = await testApp.http
        .get('/v1/projects?cursor=nonsense')
        .set('Authorization', ada.auth)
        .expect(400);
      expect(badCursor.body.code).toBe('INVALID_CURSOR');
    });

    it('answers a project id that is not a UUID with 400 INVALID_ID', async () => {
      const response = await getProject(ada, 'not-a-uuid').expect(400);
      expect(response.body).toMatchObject({
        code: 'INVALID_ID',
        details: [{ field: 'projectId', errors: ['must be a UUID'] }],
      });
    });
  });

  describe('update', () => {
    it('renames and describes, moving the revision on; an unchanged PATCH changes nothing', async () => {
      const project = await createProject(ada);
      const patched = await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', ada.auth)
        .send({ name: ' Felines ', description: 'all of them' })
        .expect(200);
      expect(patched.body).toMatchObject({ id: project.id, name: 'Felines', description: 'all of them', revision: 2 });
      expect(patched.headers.etag).toBe('W/"2"');

      const again = await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', ada.auth)
        .send({ name: 'Felines' })
        .expect(200);
      expect(again.body).toEqual(patched.body);
      expect(again.headers.etag).toBe('W/"2"');

      const cleared = await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', ada.auth)
        .send({ description: null })
        .expect(200);
      expect(cleared.body).toMatchObject({ name: 'Felines', description: '', revision: 3 });
      expect((await getProject(ada, project.id).expect(200)).body).toEqual(cleared.body);
    });

    it('honours If-Match: the current ETag writes, a stale one is 412 and changes nothing', async () => {
      const project = await createProject(ada);
      const fresh = await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', ada.auth)
        .set('If-Match', 'W/"0"')
        .send({ name: 'First' })
        .expect(200);
      expect(fresh.headers.etag).toBe('W/"1"');

      const stale = await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', ada.auth)
        .set('If-Match', 'W/"0"')
        .send({ name: 'Second' })
        .expect(412);
      expect(stale.body).toMatchObject({ statusCode: 412, code: 'REVISION_MISMATCH', details: { currentRevision: 1 } });
      expect((await getProject(ada, project.id)).body.name).toBe('First');

      const malformed = await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', ada.auth)
        .set('If-Match', 'yesterday')
        .send({ name: 'Third' })
        .expect(400);
      expect(malformed.body.code).toBe('INVALID_IF_MATCH');

      const foreignTag = await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', ada.auth)
        .set('If-Match', '"a1b2c3"')
        .send({ name: 'Fourth' })
        .expect(412);
      expect(foreignTag.body.code).toBe('REVISION_MISMATCH');

      await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', ada.auth)
        .set('If-Match', '*')
        .send({ name: 'Fifth' })
        .expect(200);
      expect((await getProject(ada, project.id)).body.name).toBe('Fifth');
    });

    it.each([
      ['an empty name', { name: '' }, 'name'],
      ['a null name', { name: null }, 'name'],
      ['a 101-character name', { name: 'x'.repeat(101) }, 'name'],
      ['a 2001-character description', { description: 'd'.repeat(2001) }, 'description'],
      ['a number as description', { description: 5 }, 'description'],
      ['an unknown type', { type: 'regression' }, 'type'],
    ])('refuses %s with 400 naming the field, changing nothing', async (_, body, field) => {
      const project = await createProject(ada);
      const response = await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', ada.auth)
        .send(body)
        .expect(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(fieldsOf(response.body)).toContain(field);
      expect((await getProject(ada, project.id)).body).toEqual(project);
    });
  });

  describe('labels', () => {
    it('adds, lists with image counts, renames and removes labels', async () => {
      const project = await createProject(ada);
      const added = await testApp.http
        .post(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .send({ name: ' cat ' })
        .expect(201);
      expect(added.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'cat',
        colorIndex: 0,
        negative: false,
      });
      expect(added.headers.etag).toBe('W/"1"');
      const dog = await addLabel(ada, project.id, 'dog');

      const list = await testApp.http
        .get(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .expect(200);
      expect(list.body).toEqual({
        items: [
          { id: added.body.id, name: 'cat', colorIndex: 0, negative: false, imageCount: 0 },
          { id: dog.id, name: 'dog', colorIndex: 1, negative: false, imageCount: 0 },
        ],
        nextCursor: null,
      });
      expect((await getProject(ada, project.id)).body.labels).toEqual([added.body, dog]);

      const renamed = await testApp.http
        .patch(`/v1/projects/${project.id}/labels/${added.body.id}`)
        .set('Authorization', ada.auth)
        .send({ name: 'Cat' })
        .expect(200);
      expect(renamed.body).toEqual({ id: added.body.id, name: 'Cat', colorIndex: 0, negative: false });
      expect(renamed.headers.etag).toBe('W/"3"');

      const sameName = await testApp.http
        .patch(`/v1/projects/${project.id}/labels/${added.body.id}`)
        .set('Authorization', ada.auth)
        .send({ name: 'Cat' })
        .expect(200);
      expect(sameName.headers.etag).toBe('W/"3"');

      const removed = await testApp.http
        .delete(`/v1/projects/${project.id}/labels/${dog.id}`)
        .set('Authorization', ada.auth)
        .expect(204);
      expect(removed.headers.etag).toBe('W/"4"');
      expect((await getProject(ada, project.id)).body.labels).toEqual([
        { id: added.body.id, name: 'Cat', colorIndex: 0, negative: false },
      ]);

      // A label keeps its colour for its life; the removed one's goes to the next label added.
      const fox = await addLabel(ada, project.id, 'fox');
      const owl = await addLabel(ada, project.id, 'owl');
      expect([fox.colorIndex, owl.colorIndex]).toEqual([1, 2]);
      await testApp.http
        .delete(`/v1/projects/${project.id}/labels/${fox.id}`)
        .set('Authorization', ada.auth)
        .expect(204);
      expect((await getProject(ada, project.id)).body.labels).toEqual([
        { id: added.body.id, name: 'Cat', colorIndex: 0, negative: false },
        { id: owl.id, name: 'owl', colorIndex: 2, negative: false },
      ]);
    });

    it('reports image counts from the datasets read model', async () => {
      const project = await createProject(ada);
      const cat = await addLabel(ada, project.id, 'cat');
      const dog = await addLabel(ada, project.id, 'dog');
      // label-stats belongs to the datasets context; here it is filled as its projection would.
      await testApp.app
        .get(ReadStore)
        .collection('label-stats')
        .apply(cat.id, Number.MAX_SAFE_INTEGER, () => ({ id: cat.id, projectId: project.id, imageCount: 7 }));
      const list = await testApp.http
        .get(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .expect(200);
      expect(list.body.items).toEqual([
        { ...cat, imageCount: 7 },
        { ...dog, imageCount: 0 },
      ]);
    });

    it('answers If-None-Match with 304 only while the list, image counts included, is unchanged', async () => {
      const project = await createProject(ada);
      const cat = await addLabel(ada, project.id, 'cat');
      const first = await testApp.http
        .get(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .expect(200);
      await testApp.http
        .get(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .set('If-None-Match', first.headers.etag)
        .expect(304);

      // An image labelled cat changes the count but not the project's revision.
      await testApp.app
        .get(ReadStore)
        .collection('label-stats')
        .apply(cat.id, Number.MAX_SAFE_INTEGER, () => ({ id: cat.id, projectId: project.id, imageCount: 1 }));
      const counted = await testApp.http
        .get(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .set('If-None-Match', first.headers.etag)
        .expect(200);
      expect(counted.body.items).toEqual([{ ...cat, imageCount: 1 }]);
      expect(counted.headers.etag).not.toBe(first.headers.etag);
      expect((await getProject(ada, project.id)).body.revision).toBe(1);
      await testApp.http
        .get(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .set('If-None-Match', counted.headers.etag)
        .expect(304);
    });

    it('keeps label names unique per project regardless of case: 409 LABEL_NAME_TAKEN', async () => {
      const project = await createProject(ada);
      const cat = await addLabel(ada, project.id, 'Cat');
      const dog = await addLabel(ada, project.id, 'dog');
      const duplicate = await testApp.http
        .post(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .send({ name: 'CAT' })
        .expect(409);
      expect(duplicate.body).toMatchObject({
        statusCode: 409,
        code: 'LABEL_NAME_TAKEN',
        details: { labelId: cat.id, name: 'Cat' },
      });
      await testApp.http
        .patch(`/v1/projects/${project.id}/labels/${dog.id}`)
        .set('Authorization', ada.auth)
        .send({ name: 'cat' })
        .expect(409);

      const other = await createProject(ada, { name: 'Other', type: 'classification' });
      await addLabel(ada, other.id, 'cat');
      expect((await getProject(ada, project.id)).body.labels).toEqual([cat, dog]);
    });

    it('answers an unknown label with 404 LABEL_NOT_FOUND, also for a label of another project', async () => {
      const project = await createProject(ada);
      const other = await createProject(ada);
      const foreign = await addLabel(ada, other.id, 'cat');
      const gone = await addLabel(ada, project.id, 'gone');
      await testApp.http
        .delete(`/v1/projects/${project.id}/labels/${gone.id}`)
        .set('Authorization', ada.auth)
        .expect(204);

      for (const labelId of [gone.id, foreign.id]) {
        const removal = await testApp.http
          .delete(`/v1/projects/${project.id}/labels/${labelId}`)
          .set('Authorization', ada.auth)
          .expect(404);
        expect(removal.body.code).toBe('LABEL_NOT_FOUND');
        const rename = await testApp.http
          .patch(`/v1/projects/${project.id}/labels/${labelId}`)
          .set('Authorization', ada.auth)
          .send({ name: 'x' })
          .expect(404);
        expect(rename.body.code).toBe('LABEL_NOT_FOUND');
      }
      const badId = await testApp.http
        .delete(`/v1/projects/${project.id}/labels/nope`)
        .set('Authorization', ada.auth)
        .expect(400);
      expect(badId.body.code).toBe('INVALID_ID');
    });

    it.each([
      ['a missing name', {}],
      ['an empty name', { name: '' }],
      ['a blank name', { name: '  ' }],
      ['a 101-character name', { name: 'x'.repeat(101) }],
      ['a number as name', { name: 3 }],
    ])('refuses a label with %s: 400 naming name', async (_, body) => {
      const project = await createProject(ada);
      const response = await testApp.http
        .post(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .send(body)
        .expect(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(fieldsOf(response.body)).toEqual(['name']);
    });

    it('honours If-Match on label writes', async () => {
      const project = await createProject(ada);
      await addLabel(ada, project.id, 'cat');
      const stale = await testApp.http
        .post(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .set('If-Match', 'W/"0"')
        .send({ name: 'dog' })
        .expect(412);
      expect(stale.body.code).toBe('REVISION_MISMATCH');
      await testApp.http
        .post(`/v1/projects/${project.id}/labels`)
        .set('Authorization', ada.auth)
        .set('If-Match', 'W/"1"')
        .send({ name: 'dog' })
        .expect(201);
    });
  });

  describe('training configuration', () => {
    const put = (user: User, projectId: string, body: unknown) =>
      testApp.http
        .put(`/v1/projects/${projectId}/training-config`)
        .set('Authorization', user.auth)
        .send(body as object);

    it('reads the defaults, and PUT replaces: settings left out go back to their defaults', async () => {
      const project = await createProject(ada);
      const read = await testApp.http
        .get(`/v1/projects/${project.id}/training-config`)
        .set('Authorization', ada.auth)
        .expect(200);
      expect(read.body).toEqual(CLASSIFICATION_DEFAULTS);
      expect(read.headers.etag).toBe('W/"0"');

      const baseIterationId = '6f1c2a9e-3b7d-4c55-9e0a-2d8f4b1c7a10';
      const first = await put(ada, project.id, {
        epochs: 50,
        architecture: 'transfer',
        baseIterationId,
        augmentation: { horizontalFlip: false },
        earlyStopping: { patience: 3 },
      }).expect(200);
      expect(first.body).toEqual({
        ...CLASSIFICATION_DEFAULTS,
        epochs: 50,
        architecture: 'transfer',
        baseIterationId,
        augmentation: { ...CLASSIFICATION_DEFAULTS.augmentation, horizontalFlip: false },
        earlyStopping: { enabled: true, patience: 3 },
      });
      expect(first.headers.etag).toBe('W/"1"');
      expect((await getProject(ada, project.id)).body.trainingConfig).toEqual(first.body);

      const second = await put(ada, project.id, { learningRate: 0.01 }).expect(200);
      expect(second.body).toEqual({ ...CLASSIFICATION_DEFAULTS, learningRate: 0.01 });

      const unchanged = await put(ada, project.id, { learningRate: 0.01, epochs: 10 }).expect(200);
      expect(unchanged.headers.etag).toBe('W/"2"');
    });

    it.each([
      ['learningRate', 0, 'learningRate must be a number from 0.000001 to 1'],
      ['learningRate', 1.5, 'learningRate must be a number from 0.000001 to 1'],
      ['epochs', 0, 'epochs must be an integer from 1 to 500'],
      ['epochs', 501, 'epochs must be an integer from 1 to 500'],
      ['epochs', 2.5, 'epochs must be an integer from 1 to 500'],
      ['epochs', '10', 'epochs must be an integer from 1 to 500'],
      ['batchSize', 2048, 'batchSize must be an integer from 1 to 1024'],
      ['imageSize', 8, 'imageSize must be an integer from 16 to 512'],
      ['imageSize', 1024, 'imageSize must be an integer from 16 to 512'],
      ['validationSplit', 0.95, 'validationSplit must be a number from 0 to 0.9'],
      ['seed', -1, 'seed must be an integer from 0 to 2147483647'],
      ['seed', null, 'seed must be an integer from 0 to 2147483647'],
    ])('refuses %s = %j with 400 naming the field and its range', async (field, value, message) => {
      const project = await createProject(ada);
      const response = await put(ada, project.id, { [field]: value }).expect(400);
      expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field, errors: [message] }] });
    });

    it('names every bad nested setting and refuses unknown ones', async () => {
      const project = await createProject(ada);
      const response = await put(ada, project.id, {
        epochs: 0,
        augmentation: { cropScale: 0.2, brightness: 2, horizontalFlip: 'yes' },
        earlyStopping: { patience: 0 },
        optimizer: 'adam',
      }).expect(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(fieldsOf(response.body).sort()).toEqual(
        [
          'epochs',
          'augmentation.cropScale',
          'augmentation.brightness',
          'augmentation.horizontalFlip',
          'earlyStopping.patience',
          'optimizer',
        ].sort(),
      );
      const nested = response.body.details.find(
        (detail: { field: string }) => detail.field === 'augmentation.cropScale',
      );
      expect(nested.errors).toEqual(['augmentation.cropScale must be a number from 0.5 to 1']);
      expect(
        (await testApp.http.get(`/v1/projects/${project.id}/training-config`).set('Authorization', ada.auth)).body,
      ).toEqual(CLASSIFICATION_DEFAULTS);
    });

    it('refuses an unknown architecture, or one of the other project type, listing the known ones', async () => {
      const classification = await createProject(ada);
      const unknown = await put(ada, classification.id, { architecture: 'resnet-152' }).expect(400);
      expect(unknown.body).toMatchObject({
        code: 'UNKNOWN_ARCHITECTURE',
        details: [{ field: 'architecture', known: ['auto', 'small-cnn', 'backbone-classifier', 'transfer'] }],
      });
      const mismatched = await put(ada, classification.id, { architecture: 'tiny-detector' }).expect(400);
      expect(mismatched.body.code).toBe('UNKNOWN_ARCHITECTURE');

      const detection = await createProject(ada, { name: 'Boxes', type: 'detection' });
      const wrongType = await put(ada, detection.id, { architecture: 'small-cnn' }).expect(400);
      expect(wrongType.body).toMatchObject({
        code: 'UNKNOWN_ARCHITECTURE',
        details: [{ known: ['auto', 'tiny-detector', 'backbone-detector'] }],
      });
      expect(wrongType.body.message).toContain('tiny-detector');
    });

    it('turns early stopping off with null, and honours If-Match', async () => {
      const project = await createProject(ada);
      await put(ada, project.id, { earlyStopping: { enabled: true, patience: 8 } }).expect(200);
      const off = await put(ada, project.id, { earlyStopping: null }).expect(200);
      expect(off.body.earlyStopping).toBeNull();
      const stale = await testApp.http
        .put(`/v1/projects/${project.id}/training-config`)
        .set('Authorization', ada.auth)
        .set('If-Match', 'W/"1"')
        .send({ epochs: 3 })
        .expect(412);
      expect(stale.body.code).toBe('REVISION_MISMATCH');
    });
  });

  describe('history', () => {
    it('lists the project’s events in log order, a page at a time, filtered by type and time', async () => {
      const user = await registerAndLogIn(testApp);
      const project = await createProject(user);
      const label = await addLabel(user, project.id, 'cat');
      await testApp.http
        .patch(`/v1/projects/${project.id}`)
        .set('Authorization', user.auth)
        .send({ name: 'Renamed' })
        .expect(200);
      await testApp.http
        .put(`/v1/projects/${project.id}/training-config`)
        .set('Authorization', user.auth)
        .send({ epochs: 3 })
        .expect(200);
      await testApp.http
        .delete(`/v1/projects/${project.id}/labels/${label.id}`)
        .set('Authorization', user.auth)
        .expect(204);
      // An event of another context that names the project lands in the same history; this one the system caused.
      const events = testApp.app.get(EventStore);
      const imageId = '00000000-0000-4000-8000-000000000001';
      await events.append(
        `image-${imageId}`,
        [{ type: 'ImageUploaded', v: 1, data: { projectId: project.id, imageId } }],
        {
          expectedRevision: 'no_stream',
          metadata: { userId: null, correlationId: 'upload-1', causationId: null, at: '2031-01-01T00:00:00.000Z' },
        },
      );

      const history = async (query: Record<string, unknown>) =>
        (
          await testApp.http
            .get(`/v1/projects/${project.id}/history`)
            .query(query)
            .set('Authorization', user.auth)
            .expect(200)
        ).body;

      const all = await history({});
      expect(all.items.map((entry: { type: string }) => entry.type)).toEqual([
        'ProjectCreated',
        'LabelAdded',
        'ProjectRenamed',
        'TrainingConfigured',
        'LabelRemoved',
        'ImageUploaded',
      ]);
      expect(all.nextCursor).toBeNull();
      expect(all.items[1]).toEqual({
        position: expect.any(Number),
        stream: projectStream(project.id),
        type: 'LabelAdded',
        v: 1,
        data: { projectId: project.id, labelId: label.id, name: 'cat', addedAt: expect.any(String) },
        metadata: { userId: user.id, correlationId: expect.any(String), at: all.items[1].data.addedAt },
        names: { labels: { [label.id]: 'cat' }, images: {}, iterations: {}, deployments: {} },
      });
      expect(all.items[5]).toMatchObject({ stream: `image-${imageId}`, metadata: { correlationId: 'upload-1' } });
      const positions = all.items.map((entry: { position: number }) => entry.position);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);

      const first = await history({ limit: 4 });
      expect(first.items).toEqual(all.items.slice(0, 4));
      expect(first.nextCursor).toBe(String(positions[3]));
      const rest = await history({ limit: 4, after: first.nextCursor });
      expect(rest).toEqual({ items: all.items.slice(4), nextCursor: null });

      const labels = await history({ type: 'LabelAdded,LabelRemoved' });
      expect(labels.items.map((entry: { type: string }) => entry.type)).toEqual(['LabelAdded', 'LabelRemoved']);
      expect((await history({ type: 'TrainingConfigured' })).items).toEqual([all.items[3]]);

      expect((await history({ from: '2030-01-01T00:00:00Z' })).items).toEqual([all.items[5]]);
      expect((await history({ to: '2030-01-01T00:00:00Z' })).items).toEqual(all.items.slice(0, 5));
      expect((await history({ from: '2030-01-01T00:00:00Z', to: '2030-12-31T00:00:00Z' })).items).toEqual([]);

      expect((await history({ user: user.id })).items).toEqual(all.items.slice(0, 5));
      expect((await history({ user: 'system' })).items).toEqual([all.items[5]]);
      expect((await history({ user: ada.id, type: 'LabelAdded' })).items).toEqual([]);
    });

    it.each([
      ['after=abc', 'after'],
      ['limit=0', 'limit'],
      ['from=yesterday', 'from'],
      ['to=2026-13-01', 'to'],
      ['type=no%20spaces', 'type'],
      ['user=ada', 'user'],
    ])('refuses %s with 400 naming %s', async (query, field) => {
      const project = await createProject(ada);
      const response = await testApp.http
        .get(`/v1/projects/${project.id}/history?${query}`)
        .set('Authorization', ada.auth)
        .expect(400);
      expect(fieldsOf(response.body)).toContain(field);
    });
  });

  describe('documentation', () => {
    it('documents every project route with its errors, If-Match on writes, and the training ranges', async () => {
      const document = (await testApp.http.get('/docs-json').expect(200)).body;
      const projectRoutes = [
        'GET /v1/projects/{projectId}',
        'PATCH /v1/projects/{projectId}',
        'DELETE /v1/projects/{projectId}',
        'GET /v1/projects/{projectId}/labels',
        'POST /v1/projects/{projectId}/labels',
        'PATCH /v1/projects/{projectId}/labels/{labelId}',
        'DELETE /v1/projects/{projectId}/labels/{labelId}',
        'GET /v1/projects/{projectId}/training-config',
        'PUT /v1/projects/{projectId}/training-config',
        'GET /v1/projects/{projectId}/history',
      ];
      const operations = Object.entries(
        document.paths as Record<string, Record<string, { responses: object; parameters?: { name: string }[] }>>,
      )
        .flatMap(([path, methods]) =>
          Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
        )
        .filter(({ method, path }) => projectRoutes.includes(`${method.toUpperCase()} ${path}`));
      expect(operations.map(({ method, path }) => `${method.toUpperCase()} ${path}`).sort()).toEqual(
        [...projectRoutes].sort(),
      );
      for (const { method, operation } of operations) {
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '401', '404']));
        if (method !== 'get') {
          expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['409', '412']));
          expect(operation.parameters?.map((parameter) => parameter.name)).toContain('If-Match');
        }
      }
      const settings = document.components.schemas.TrainingConfigInputDto.properties;
      expect(settings.epochs).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 10 });
      expect(settings.learningRate).toMatchObject({ minimum: 0.000001, maximum: 1, default: 0.001 });
      expect(settings.architecture.enum).toEqual([
        'auto',
        'small-cnn',
        'backbone-classifier',
        'transfer',
        'tiny-detector',
        'backbone-detector',
      ]);
    });
  });

  describe('delete', () => {
    it('removes the project from every list and route, and keeps its history in the log', async () => {
      const user = await registerAndLogIn(testApp);
      const project = await createProject(user);
      const kept = await createProject(user, { name: 'Kept', type: 'detection' });
      await addLabel(user, project.id, 'cat');

      const stale = await testApp.http
        .delete(`/v1/projects/${project.id}`)
        .set('Authorization', user.auth)
        .set('If-Match', 'W/"0"')
        .expect(412);
      expect(stale.body.code).toBe('REVISION_MISMATCH');
      await testApp.http
        .delete(`/v1/projects/${project.id}`)
        .set('Authorization', user.auth)
        .set('If-Match', 'W/"1"')
        .expect(204);

      const list = await testApp.http.get('/v1/projects').set('Authorization', user.auth).expect(200);
      expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([kept.id]);
      for (const path of ['', '/labels', '/training-config', '/history']) {
        const response = await testApp.http
          .get(`/v1/projects/${project.id}${path}`)
          .set('Authorization', user.auth)
          .expect(404);
        expect(response.body.code).toBe('PROJECT_NOT_FOUND');
      }
      const again = await testApp.http.delete(`/v1/projects/${project.id}`).set('Authorization', user.auth).expect(404);
      expect(again.body.code).toBe('PROJECT_NOT_FOUND');

      const logged = await testApp.app.get(EventStore).readStream(projectStream(project.id));
      expect(logged.map((event) => event.type)).toEqual(['ProjectCreated', 'LabelAdded', 'ProjectDeleted']);
      expect(logged[2].data).toEqual({ projectId: project.id, name: 'Cats', deletedAt: expect.any(String) });
    });
  });
});

describe('projects per user', () => {
  it('holds a user to MAX_PROJECTS_PER_USER: 422 PROJECT_LIMIT_REACHED beyond, room again after a deletion', async () => {
    const limited = await startTestApp({ settings: { MAX_PROJECTS_PER_USER: '2' } });
    try {
      const [ada, bob] = [await registerAndLogIn(limited), await registerAndLogIn(limited)];
      const create = (user: User, name: string) =>
        limited.http.post('/v1/projects').set('Authorization', user.auth).send({ name, type: 'classification' });
      const first = (await create(ada, 'one').expect(201)).body;
      await create(ada, 'two').expect(201);
      const refused = await create(ada, 'three').expect(422);
      expect(refused.body).toMatchObject({
        code: 'PROJECT_LIMIT_REACHED',
        details: { projects: 2, maxProjects: 2 },
      });
      expect(refused.body.message).toContain('delete one first');
      await create(bob, 'theirs').expect(201);
      await limited.http.delete(`/v1/projects/${first.id}`).set('Authorization', ada.auth).expect(204);
      await create(ada, 'three').expect(201);
    } finally {
      await limited.destroy();
    }
  });
});

describe('projects across a restart', () => {
  it('rebuilds projects, labels and history from the log', async () => {
    const first = await startTestApp();
    const user = await registerAndLogIn(first);
    const project = (
      await first.http
        .post('/v1/projects')
        .set('Authorization', user.auth)
        .send({ name: 'Durable', type: 'detection' })
        .expect(201)
    ).body;
    await first.http
      .post(`/v1/projects/${project.id}/labels`)
      .set('Authorization', user.auth)
      .send({ name: 'car' })
      .expect(201);
    const before = (await first.http.get(`/v1/projects/${project.id}`).set('Authorization', user.auth).expect(200))
      .body;
    const historyBefore = (
      await first.http.get(`/v1/projects/${project.id}/history`).set('Authorization', user.auth).expect(200)
    ).body;
    await first.close();

    const second = await startTestApp({ dataDir: first.dataDir });
    expect(
      (await second.http.get(`/v1/projects/${project.id}`).set('Authorization', user.auth).expect(200)).body,
    ).toEqual(before);
    expect(
      (await second.http.get(`/v1/projects/${project.id}/history`).set('Authorization', user.auth).expect(200)).body,
    ).toEqual(historyBefore);
    await second.destroy();
  });
});

describe('projects under concurrent writes', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    // Appends take 150 ms, as over a network: two requests both read the stream before either appends.
    testApp = await startTestAppWithSlowAppends(150);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('answers the loser of two simultaneous writes with 409 WRONG_EXPECTED_REVISION', async () => {
    const user = await registerAndLogIn(testApp);
    const project = (
      await testApp.http
        .post('/v1/projects')
        .set('Authorization', user.auth)
        .send({ name: 'Race', type: 'classification' })
        .expect(201)
    ).body;

    const [a, b] = await Promise.all(
      ['Alpha', 'Beta'].map((name) =>
        testApp.http.patch(`/v1/projects/${project.id}`).set('Authorization', user.auth).send({ name }),
      ),
    );
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
    expect(loser.body).toMatchObject({ statusCode: 409, code: 'WRONG_EXPECTED_REVISION' });
    const current = await testApp.http.get(`/v1/projects/${project.id}`).set('Authorization', user.auth).expect(200);
    expect(current.body).toMatchObject({ name: winner.body.name, revision: 1 });
  });

  it('keeps label names unique when the same name is added twice at once', async () => {
    const user = await registerAndLogIn(testApp);
    const project = (
      await testApp.http
        .post('/v1/projects')
        .set('Authorization', user.auth)
        .send({ name: 'Race', type: 'classification' })
        .expect(201)
    ).body;
    const attempts = await Promise.all(
      ['cat', 'CAT'].map((name) =>
        testApp.http.post(`/v1/projects/${project.id}/labels`).set('Authorization', user.auth).send({ name }),
      ),
    );
    expect(attempts.map((response) => response.status).sort()).toEqual([201, 409]);
    const labels = await testApp.http
      .get(`/v1/projects/${project.id}/labels`)
      .set('Authorization', user.auth)
      .expect(200);
    expect(labels.body.items).toHaveLength(1);
  });
});
