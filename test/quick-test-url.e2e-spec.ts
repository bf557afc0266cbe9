import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';

const PREDICT_MAX_IMAGE_BYTES = 20_000;

// The native quick test of a photo at a URL: the same answer as for its bytes, and the fetcher's own refusals.
describe('quick test from an image URL', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let stranger: ApiClient;
  let server: Server;
  let photos: string;
  let bluePhoto: Buffer;
  const served: string[] = [];
  let quickTestUrl: string;
  let quickTestBytes: string;

  beforeAll(async () => {
    [bluePhoto] = await colouredSquares(BLUE, 1, 77);
    // Still a PNG to file-type, but over the prediction limit while under the fetcher's own.
    const oversized = Buffer.concat([bluePhoto, Buffer.alloc(PREDICT_MAX_IMAGE_BYTES)]);
    server = createServer((request, response) => {
      served.push(request.url ?? '');
      if (request.url === '/photos/blue.png')
        return response.writeHead(200, { 'content-type': 'image/png' }).end(bluePhoto);
      if (request.url === '/photos/huge.png')
        return response.writeHead(200, { 'content-type': 'image/png' }).end(oversized);
      if (request.url === '/notes.txt')
        return response.writeHead(200, { 'content-type': 'text/plain' }).end('not an image');
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    photos = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Deployment settings come from the environment, the fetcher's from the app's settings.
    process.env.PREDICT_MAX_IMAGE_BYTES = String(PREDICT_MAX_IMAGE_BYTES);
    testApp = await startTestApp({
      settings: { URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1', URL_FETCH_TIMEOUT_MS: 5000 },
    });
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    stranger = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    const project = await client.createProject('classification', ['red', 'blue'], 'quick test by URL');
    const imported = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    quickTestBytes = `/v1/projects/${project.id}/iterations/${imported.body.id}/quick-test`;
    quickTestUrl = `${quickTestBytes}/url`;
  });
  afterAll(async () => {
    delete process.env.PREDICT_MAX_IMAGE_BYTES;
    await testApp.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const testUrl = (url: unknown, as = client) => as.http.post(quickTestUrl).set('Authorization', as.auth).send({ url });

  it('answers for the photo at a URL as for the same photo sent as bytes, threshold included', async () => {
    const byBytes = await client.http
      .post(`${quickTestBytes}?threshold=0`)
      .set('Authorization', client.auth)
      .set('Content-Type', 'image/png')
      .send(bluePhoto)
      .expect(200);
    const byUrl = await client.http
      .post(`${quickTestUrl}?threshold=0`)
      .set('Authorization', client.auth)
      .send({ url: ` ${photos}/photos/blue.png ` })
      .expect(200);
    expect(byUrl.body).toEqual(byBytes.body);
    expect(byUrl.body.predictions.map((prediction: { label: string }) => prediction.label).sort()).toEqual([
      'blue',
      'red',
    ]);
  });

  it('refuses a URL it cannot use with the fetcher’s code and a message naming the URL', async () => {
    const notAnImage = await testUrl(`${photos}/notes.txt`).expect(422);
    expect(notAnImage.body).toMatchObject({ code: 'URL_NOT_AN_IMAGE', message: expect.stringContaining('/notes.txt') });
    const missing = await testUrl(`${photos}/photos/gone.png`).expect(422);
    expect(missing.body).toMatchObject({ code: 'URL_FETCH_FAILED', message: expect.stringContaining('HTTP 404') });
    const tooLarge = await testUrl(`${photos}/photos/huge.png`).expect(400);
    expect(tooLarge.body).toMatchObject({
      code: 'URL_TOO_LARGE',
      message: expect.stringContaining('PREDICT_MAX_IMAGE_BYTES'),
      details: { maxBytes: PREDICT_MAX_IMAGE_BYTES },
    });
    expect((await testUrl('not a url').expect(400)).body.code).toBe('URL_INVALID');
    expect((await testUrl('ftp://example.com/cat.jpg').expect(400)).body.code).toBe('URL_INVALID');
    expect((await testUrl('http://10.1.2.3/cat.jpg').expect(400)).body.code).toBe('URL_ADDRESS_NOT_ALLOWED');
    expect((await testUrl(undefined).expect(400)).body.code).toBe('VALIDATION_FAILED');
  });

  it('checks the iteration and its owner before fetching anything', async () => {
    const before = served.length;
    const unknown = await client.http
      .post(quickTestUrl.replace(/iterations\/[^/]+/, `iterations/${randomUUID()}`))
      .set('Authorization', client.auth)
      .send({ url: `${photos}/photos/blue.png` })
      .expect(404);
    expect(unknown.body.code).toBe('ITERATION_NOT_FOUND');
    await testUrl(`${photos}/photos/blue.png`, stranger).expect(404);
    expect(served.length).toBe(before);
  });
});
