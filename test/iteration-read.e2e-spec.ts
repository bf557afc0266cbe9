import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { baseUrlOf } from './support/liveness-probe.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

vi.setConfig({ testTimeout: 120_000 });

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as it came over the wire, still compressed. */
  body: Buffer;
}

/**
 * GET of an iteration is served from its answer serialized once per revision (polling a long training served the same
 * 82 KB again and again): every change shows at once, compressed answers hold the same JSON, and a client that sends
 * back the ETag gets 304 while nothing changed.
 */
describe('reading an iteration', () => {
  let testApp: TestApp;
  let baseUrl: string;
  let client: ApiClient;
  let projectId: string;
  let iterationId: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    baseUrl = await baseUrlOf(testApp);
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    projectId = (await client.createProject('classification', ['red', 'blue'])).id;
    await client.upload(projectId, await colouredSquares(RED, 6, 1), { label: 'red' }, 'red');
    await client.upload(projectId, await colouredSquares(BLUE, 6, 2), { label: 'blue' }, 'blue');
    iterationId = (
      await client.train(projectId, {
        imageSize: 16,
        epochs: 3,
        batchSize: 4,
        augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
      })
    ).id;
    expect((await client.waitForIteration(projectId, iterationId)).status).toBe('completed');
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  function get(headers: Record<string, string>, auth = client.auth): Promise<RawAnswer> {
    const url = `${baseUrl}/v1/projects/${projectId}/iterations/${iterationId}`;
    return new Promise((resolve, reject) => {
      request(url, { headers: { authorization: auth, ...headers } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
        );
      })
        .on('error', reject)
        .end();
    });
  }

  it('answers the same JSON however it is compressed, with the revision as ETag', async () => {
    const plain = await get({});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const iteration = JSON.parse(plain.body.toString());
    expect(iteration).toMatchObject({ id: iterationId, status: 'completed', progress: { epoch: 3, epochs: 3 } });
    expect(iteration.history).toHaveLength(3);
    expect(plain.headers.etag).toBe(`W/"${iteration.revision}"`);

    const brotli = await get({ 'accept-encoding': 'gzip, deflate, br' });
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(brotli.headers.vary).toContain('Accept-Encoding');
    expect(brotliDecompressSync(brotli.body).toString()).toBe(plain.body.toString());
    const gzipped = await get({ 'accept-encoding': 'gzip' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzipped.body).toString()).toBe(plain.body.toString());
  });

  it('answers 304 without a body while the ETag sent is current, and the renamed iteration after a rename', async () => {
    const first = await get({});
    const etag = String(first.headers.etag);
    const unchanged = await get({ 'if-none-match': etag, 'accept-encoding': 'br' });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body.length).toBe(0);
    expect(unchanged.headers.etag).toBe(etag);

    await testApp.http
      .patch(`/v1/projects/${projectId}/iterations/${iterationId}`)
      .set('Authorization', client.auth)
      .send({ name: 'Renamed while cached' })
      .expect(200);
    const changed = await get({ 'if-none-match': etag, 'accept-encoding': 'br' });
    expect(changed.status).toBe(200);
    expect(JSON.parse(brotliDecompressSync(changed.body).toString()).name).toBe('Renamed while cached');
    expect(changed.headers.etag).not.toBe(etag);
    expect((await get({ 'if-none-match': String(changed.headers.etag) })).status).toBe(304);
  });

  it('answers 404, not 304, to another user who sends the ETag', async () => {
    const etag = String((await get({})).headers.etag);
    const stranger = await registerAndLogIn(testApp);
    const answer = await get({ 'if-none-match': etag }, stranger.auth);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body.toString()).code).toBe('PROJECT_NOT_FOUND');
  });
});
