import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';

// The native features under Custom Vision's updateIteration/deleteIteration, updateImageMetadata,
// createImagesFromUrls and getImageRegionProposals, driven over HTTP as a client would.

describe('iterations rename and delete, image metadata, images from URLs, region proposals', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let stranger: ApiClient;
  let server: Server;
  let images: string;
  let port: number;
  const pngs: Buffer[] = [];

  beforeAll(async () => {
    pngs.push(...(await colouredSquares(RED, 2, 41)), ...(await colouredSquares(BLUE, 1, 42)));
    server = createServer((request, response) => {
      const match = /^\/photos\/(\d+)\.png$/.exec(request.url ?? '');
      if (match && pngs[Number(match[1])])
        return response.writeHead(200, { 'content-type': 'image/png' }).end(pngs[Number(match[1])]);
      if (request.url === '/notes.txt')
        return response.writeHead(200, { 'content-type': 'text/plain' }).end('not an image');
      if (request.url === '/redirect-to-metadata')
        return response.writeHead(302, { location: 'http://169.254.169.254/latest' }).end();
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    images = `http://127.0.0.1:${port}/photos`;
    testApp = await startTestApp({
      settings: { URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1', URL_FETCH_TIMEOUT_MS: 3000 },
    });
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    stranger = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('renames an iteration, refuses to delete it while deployed, deletes it once undeployed and keeps its history', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'iterations');
    const model = modelZip(await tinyClassifier(['red', 'blue']));
    const upload = () =>
      client.http
        .post(`/v1/projects/${project.id}/models`)
        .set('Authorization', client.auth)
        .attach('model', model, 'model.zip');
    const first = (await upload().expect(201)).body;
    const second = (await upload().expect(201)).body;
    expect([first.name, second.name]).toEqual(['Iteration 1', 'Iteration 2']);
    const path = (id: string) => `/v1/projects/${project.id}/iterations/${id}`;

    const renamed = await client.http
      .patch(path(first.id))
      .set('Authorization', client.auth)
      .send({ name: '  Baseline ' })
      .expect(200);
    expect(renamed.body).toMatchObject({ id: first.id, name: 'Baseline', number: 1 });
    expect((await client.iteration(project.id, first.id)).name).toBe('Baseline');
    const taken = await client.http
      .patch(path(first.id))
      .set('Authorization', client.auth)
      .send({ name: 'Iteration 2' })
      .expect(409);
    expect(taken.body.code).toBe('ITERATION_NAME_TAKEN');
    expect(
      (await client.http.patch(path(first.id)).set('Authorization', client.auth).send({ name: ' ' }).expect(400)).body
        .code,
    ).toBe('ITERATION_NAME_INVALID');
    expect(
      (await client.http.patch(path(first.id)).set('Authorization', client.auth).send({}).expect(400)).body.code,
    ).toBe('VALIDATION_FAILED');
    await stranger.http.patch(path(first.id)).set('Authorization', stranger.auth).send({ name: 'mine' }).expect(404);

    const deployment = (
      await client.http
        .post(`/v1/projects/${project.id}/deployments`)
        .set('Authorization', client.auth)
        .send({ iterationId: first.id, name: 'prod' })
        .expect(201)
    ).body;
    const refused = await client.http.delete(path(first.id)).set('Authorization', client.auth).expect(409);
    expect(refused.body).toMatchObject({ code: 'ITERATION_DEPLOYED', details: { deployments: ['prod'] } });
    expect(refused.body.message).toContain('undeploy');
    await stranger.http.delete(path(first.id)).set('Authorization', stranger.auth).expect(404);
    await client.http
      .delete(`/v1/projects/${project.id}/deployments/${deployment.id}`)
      .set('Authorization', client.auth)
      .expect(204);

    await client.http.delete(path(first.id)).set('Authorization', client.auth).expect(204);
    await client.http.get(path(first.id)).set('Authorization', client.auth).expect(404);
    await client.http.delete(path(first.id)).set('Authorization', client.auth).expect(404);
    const listed = await client.http
      .get(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual([second.id]);
    const redeploy = await client.http
      .post(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId: first.id });
    expect([redeploy.status, redeploy.body.code]).toEqual([404, 'ITERATION_NOT_FOUND']);
    const history = await client.http
      .get(`/v1/projects/${project.id}/history?limit=500`)
      .set('Authorization', client.auth)
      .expect(200);
    const types = history.body.items
      .filter((item: { data: { iterationId?: string } }) => item.data.iterationId === first.id)
      .map((item: { type: string }) => item.type);
    expect(types).toEqual(expect.arrayContaining(['ModelImported', 'IterationRenamed', 'IterationDeleted']));
  }, 60_000);

  it('keeps key/value metadata on images, filters listings by it and refuses what breaks the limits', async () => {
    const project = await client.createProject('classification', ['red'], 'metadata');
    const [a, b] = await client.upload(project.id, pngs.slice(0, 2));
    const put = (imageId: string, metadata: object) =>
      client.http
        .put(`/v1/projects/${project.id}/images/${imageId}/metadata`)
        .set('Authorization', client.auth)
        .send({ metadata });

    const set = await put(a.id!, { camera: 'north', shift: 'night' }).expect(200);
    expect(set.body.metadata).toEqual({ camera: 'north', shift: 'night' });
    expect(set.headers.etag).toBe('W/"1"');
    await put(b.id!, { camera: 'south' }).expect(200);
    const list = async (query: string) =>
      (
        await client.http
          .get(`/v1/projects/${project.id}/images?${query}`)
          .set('Authorization', client.auth)
          .expect(200)
      ).body.items.map((image: { id: string }) => image.id);
    expect(await list('metadata=camera%3Dnorth')).toEqual([a.id]);
    expect(await list('metadata=camera%3Dsouth')).toEqual([b.id]);
    expect(await list('metadata=camera%3Deast')).toEqual([]);
    const wrongFilter = await client.http
      .get(`/v1/projects/${project.id}/images?metadata=camera`)
      .set('Authorization', client.auth)
      .expect(400);
    expect(wrongFilter.body.message).toContain('key=value');

    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, index) => [`k${index}`, 'v']));
    expect((await put(a.id!, eleven).expect(400)).body.code).toBe('METADATA_TOO_MANY_ENTRIES');
    expect((await put(a.id!, { ['k'.repeat(129)]: 'v' }).expect(400)).body.code).toBe('METADATA_KEY_INVALID');
    expect((await put(a.id!, { camera: 'x'.repeat(257) }).expect(400)).body.code).toBe('METADATA_VALUE_INVALID');
    expect((await put(a.id!, { camera: 7 }).expect(400)).body.code).toBe('METADATA_VALUE_INVALID');
    // Nothing was lost by the refused writes.
    expect(
      (await client.http.get(`/v1/projects/${project.id}/images/${a.id}`).set('Authorization', client.auth).expect(200))
        .body.metadata,
    ).toEqual({ camera: 'north', shift: 'night' });
    await client.http
      .put(`/v1/projects/${project.id}/images/${a.id}/metadata`)
      .set('Authorization', client.auth)
      .set('If-Match', 'W/"0"')
      .send({ metadata: {} })
      .expect(412);
    await stranger.http
      .put(`/v1/projects/${project.id}/images/${a.id}/metadata`)
      .set('Authorization', stranger.auth)
      .send({ metadata: {} })
      .expect(404);
    expect((await put(a.id!, {}).expect(200)).body.metadata).toEqual({});
    expect(await list('metadata=camera%3Dnorth')).toEqual([]);
  });

  it('adds images from URLs on an allowed address, and refuses other private addresses, errors and non-images per URL', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'urls');
    const post = (body: object) =>
      client.http.post(`/v1/projects/${project.id}/images/urls`).set('Authorization', client.auth).send(body);

    const created = await post({ urls: [`${images}/0.png`, `${images}/1.png`], label: 'red' }).expect(201);
    expect(created.body.items).toEqual([
      { url: `${images}/0.png`, filename: '0.png', status: 'created', id: expect.any(String) },
      { url: `${images}/1.png`, filename: '1.png', status: 'created', id: expect.any(String) },
    ]);
    const image = await client.http
      .get(`/v1/projects/${project.id}/images/${created.body.items[0].id}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(image.body).toMatchObject({ filename: '0.png', label: { name: 'red' }, width: 16 });

    const mixed = await post({
      urls: [
        `${images}/2.png`,
        `${images}/0.png`,
        `http://127.0.0.2:${port}/photos/2.png`,
        `http://[::1]:${port}/photos/2.png`,
        `http://127.0.0.1:${port}/redirect-to-metadata`,
        `http://127.0.0.1:${port}/notes.txt`,
        `http://127.0.0.1:${port}/gone.png`,
        'ftp://example.com/a.png',
      ],
    }).expect(207);
    expect(
      mixed.body.items.map((item: { status: string; error?: { code: string } }) => item.error?.code ?? item.status),
    ).toEqual([
      'created',
      'duplicate',
      'URL_ADDRESS_NOT_ALLOWED',
      'URL_ADDRESS_NOT_ALLOWED',
      'URL_ADDRESS_NOT_ALLOWED',
      'URL_NOT_AN_IMAGE',
      'URL_FETCH_FAILED',
      'URL_INVALID',
    ]);
    expect(mixed.body.items[2].error.message).toContain('URL_FETCH_ALLOWED_ADDRESSES');

    const refused = await post({ urls: [`http://127.0.0.2:${port}/photos/0.png`] }).expect(400);
    expect(refused.body.code).toBe('URL_ADDRESS_NOT_ALLOWED');
    expect((await post({ urls: [] }).expect(400)).body.code).toBe('VALIDATION_FAILED');
    expect((await post({ urls: Array.from({ length: 65 }, () => `${images}/0.png`) }).expect(400)).body.code).toBe(
      'VALIDATION_FAILED',
    );
    await stranger.http
      .post(`/v1/projects/${project.id}/images/urls`)
      .set('Authorization', stranger.auth)
      .send({ urls: [`${images}/0.png`] })
      .expect(404);
    const count = await client.http
      .get(`/v1/projects/${project.id}/images`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(count.body.items).toHaveLength(3);
  });

  it('gives images from URLs several labels in a multilabel project, and refuses several in a classification one', async () => {
    const multilabel = await client.createProject('multilabel', ['red', 'square', 'blue'], 'urls multilabel');
    const created = await client.http
      .post(`/v1/projects/${multilabel.id}/images/urls`)
      .set('Authorization', client.auth)
      .send({ urls: [`${images}/2.png`], labels: ['red', multilabel.labels.square] })
      .expect(201);
    const image = await client.http
      .get(`/v1/projects/${multilabel.id}/images/${created.body.items[0].id}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(image.body.labels.map((label: { name: string }) => label.name).sort()).toEqual(['red', 'square']);

    const classification = await client.createProject('classification', ['red', 'blue'], 'urls one label');
    const refused = await client.http
      .post(`/v1/projects/${classification.id}/images/urls`)
      .set('Authorization', client.auth)
      .send({ urls: [`${images}/1.png`], labels: ['red', 'blue'] })
      .expect(400);
    expect(refused.body.code).toBe('TOO_MANY_LABELS');
  });

  it('answers region proposals only for a detection project, from the backbone before a detector is trained', async () => {
    const detection = await client.createProject('detection', ['red'], 'proposals');
    const [image] = await client.upload(detection.id, pngs.slice(0, 1));
    const untrained = await client.http
      .get(`/v1/projects/${detection.id}/images/${image.id}/region-proposals`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(untrained.body).toMatchObject({ source: 'backbone', iterationId: null });
    const classification = await client.createProject('classification', ['red'], 'no proposals');
    const [other] = await client.upload(classification.id, pngs.slice(0, 1));
    const wrongType = await client.http
      .get(`/v1/projects/${classification.id}/images/${other.id}/region-proposals`)
      .set('Authorization', client.auth)
      .expect(400);
    expect(wrongType.body.code).toBe('WRONG_PROJECT_TYPE');
    await stranger.http
      .get(`/v1/projects/${detection.id}/images/${image.id}/region-proposals`)
      .set('Authorization', stranger.auth)
      .expect(404);
  });
});
