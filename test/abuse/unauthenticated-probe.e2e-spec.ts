import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { hollowGif } from '@diyml/datasets/testing/hollow-images.js';
import { ApiClient } from '../support/api-client.js';
import { deployedTinyModel } from '../support/deployed-tiny-model.js';
import { baseUrlOf, expectStayedLive, underAttack } from '../support/liveness-probe.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { exchange, type FloodRequest, prepareFlood, type RawResponse, send, sendWithoutEnding } from './raw-http.js';

vi.setConfig({ testTimeout: 120_000 });

/** An error answer is a few hundred bytes; anything near this means the api echoes what it was sent. */
const MAX_ERROR_BYTES = 4096;
/** A liveness bound scaled by the load per core (see expectStayedLive), not a speed target. */
const HEALTH_BOUND_MS = 1000;
const MAX_RSS_GROWTH_BYTES = 200 * 1024 * 1024;
/**
 * A one-colour PNG of 7,200 × 7,200 pixels (under PREDICT_MAX_PIXELS, 52 MP) is small on the wire and large decoded:
 * four GIFs as large sent at once grew the api by ~600-800 MB before predictions shared a pixel budget (one such
 * image at a time). GIFs that large are now refused from their header (GIF_MAX_PIXELS), hollow ones too.
 */
const MAX_RSS_GROWTH_PREDICTING_BYTES = 400 * 1024 * 1024;
const PASSWORD = 'a passphrase nobody guesses';
/** Each attacker sends from its own loopback address, so the failed-sign-in brakes of one do not slow another. */
const ADDRESS = { user: '127.0.0.1', bodies: '127.0.0.7', flood: '127.0.0.8', table: '127.0.0.9' };

/** A real 8 × 8 JPEG whose frame header is rewritten to declare `width` × `height`. */
async function jpegDeclaring(width: number, height: number): Promise<Buffer> {
  const jpeg = Buffer.from(
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c00' } })
      .jpeg()
      .toBuffer(),
  );
  const frame = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(height, frame + 5);
  jpeg.writeUInt16BE(width, frame + 7);
  return jpeg;
}

function multipartImage(file: Buffer, boundary = 'probe'): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.img"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

function expectRefused(
  response: Pick<RawResponse, 'status' | 'bytes'> & { code?: unknown },
  status: number,
  code: string,
) {
  expect({ status: response.status, code: response.code }).toEqual({ status, code });
  expect(response.bytes).toBeLessThan(MAX_ERROR_BYTES);
}

describe('an unauthenticated client probing the api (issue 17)', () => {
  let testApp: TestApp;
  let baseUrl: string;
  let auth: string;
  let projectId: string;
  let deploymentId: string;
  let deploymentKey: string;
  let trainingKey: string;

  const call = (method: string, path: string, options: Parameters<typeof send>[3] = {}) =>
    send(baseUrl, method, path, options).then((response) => ({ ...response, code: response.body.code }));

  beforeAll(async () => {
    // A body that stops arriving is answered 408 after this long: an api waiting for one shows as a 408, not a hang.
    testApp = await startTestApp({
      // The production hash cost: the thread-pool test needs logins that take the pool's threads long enough to tell.
      settings: { BODY_IDLE_TIMEOUT_SECONDS: '5', PASSWORD_HASH_MEMORY_KIB: '19456' },
    });
    baseUrl = await baseUrlOf(testApp);
    const credentials = JSON.stringify({ username: 'ada', password: PASSWORD });
    await call('POST', '/v1/auth/register', { body: credentials });
    auth = `Bearer ${(await call('POST', '/v1/auth/login', { body: credentials })).body.accessToken}`;
    const tiny = await deployedTinyModel(new ApiClient(testApp, auth), ['red', 'blue']);
    projectId = tiny.project.id;
    deploymentId = tiny.deployment.id;
    deploymentKey = tiny.deployment.apiKey;
    const token = await call('POST', '/v1/users/me/tokens', {
      body: JSON.stringify({ name: 'probe' }),
      headers: { authorization: auth },
    });
    trainingKey = String(token.body.token);
  }, 120_000);
  afterAll(async () => {
    await testApp?.destroy();
  });

  it('reads no JSON body of a route behind a login token or a key until the credential is valid', async () => {
    // Each request promises 512 KiB (within JSON_MAX_BYTES) and sends 5 bytes: an api reading the body before
    // refusing the credential waits for the rest (here 408 after 5 s) instead of answering 401 at once.
    const promise = (headers: Record<string, string>) => ({
      body: Buffer.from('{"a":'),
      headers: { 'content-type': 'application/json', 'content-length': String(512 * 1024), ...headers },
      from: ADDRESS.bodies,
    });
    const answer = async (path: string, headers: Record<string, string>) => {
      const response = await sendWithoutEnding(baseUrl, 'POST', path, promise(headers));
      return { ...response, code: response.body.code };
    };
    const tags = `/customvision/v3.3/training/projects/${projectId}/tags?name=x`;
    expectRefused(await answer('/v1/projects', {}), 401, 'UNAUTHENTICATED');
    expectRefused(await answer('/v1/projects', { authorization: 'Bearer dml_not-a-token' }), 401, 'TOKEN_INVALID');
    expectRefused(await answer('/v1/projects', { authorization: 'Basic YTpi' }), 401, 'MALFORMED_AUTHORIZATION');
    expectRefused(await answer(`/v1/projects/${projectId}/labels`, {}), 401, 'UNAUTHENTICATED');
    expect((await answer(tags, {})).status).toBe(401);
    expect((await answer(tags, { 'training-key': 'dml_not-a-key' })).status).toBe(401);
    // Custom Vision's prediction from a URL takes a URL: 64 KiB, as sign-up and login.
    const url = `/customvision/v3.0/prediction/${projectId}/classify/iterations/x/url`;
    const tooLarge = await answer(url, {});
    expectRefused(tooLarge, 413, 'PAYLOAD_TOO_LARGE');
    // With a valid credential the body is read as before.
    const created = await call('POST', '/v1/projects', {
      body: JSON.stringify({ name: 'Read', type: 'classification' }),
      headers: { authorization: auth },
    });
    expect(created.status).toBe(201);
    const tag = await call('POST', tags, { body: '{}', headers: { 'training-key': trainingKey } });
    expect(tag.status).toBe(200);
  });

  it('reads no image or video sent to a prediction route whose deployment id is not a UUID: 400 INVALID_ID at once', async () => {
    // Each promises 30 MiB (within PREDICT_MAX_IMAGE_BYTES and VIDEO_MAX_BYTES) and sends 5 bytes. The key guards let
    // such an id through to the route's own check, which ran after the body was read: each anonymous request held up
    // to 32 MiB in memory (a video: 200 MiB on disk) before its 400, and one that stopped sending got a 408 after 5 s.
    const answer = async (path: string, type: string, headers: Record<string, string>) => {
      const response = await sendWithoutEnding(baseUrl, 'POST', path, {
        body: Buffer.from('abcde'),
        headers: { 'content-type': type, 'content-length': String(30 * 1024 * 1024), ...headers },
        from: ADDRESS.bodies,
      });
      return `${path} ${type.split(';')[0]} ${response.status} ${String(response.body.code)} ${response.bytes < MAX_ERROR_BYTES ? 'small' : 'large'}`;
    };
    const attempts: Array<[string, string, Record<string, string>]> = [
      ['/v1/predict/not-a-uuid', 'image/png', {}],
      ['/v1/predict/not-a-uuid', 'multipart/form-data; boundary=probe', { 'x-api-key': deploymentKey }],
      ['/v1/predict/not-a-uuid/videos', 'multipart/form-data; boundary=probe', { 'x-api-key': 'dpk_guess' }],
      ['/v1/shared-models/not-a-uuid/predict', 'image/png', { authorization: auth }],
    ];
    const answers: string[] = [];
    for (const [path, type, headers] of attempts) answers.push(await answer(path, type, headers));
    expect(answers).toEqual(attempts.map(([path, type]) => `${path} ${type.split(';')[0]} 400 INVALID_ID small`));
  });

  it('answers fifty anonymous JSON bodies of 0.95 MiB (within JSON_MAX_BYTES) sent to routes behind a login or a key with 401, parsing none, the api staying live', async () => {
    const body = Buffer.from(
      `{"items":[${Array.from({ length: 36_000 }, (_, index) => `{"k":${index},"v":"xxxxxxxx"}`).join(',')}]}`,
    );
    const targets: Array<{ path: string; headers: Record<string, string> }> = [
      { path: '/v1/projects', headers: {} },
      { path: '/v1/projects', headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln' } },
      { path: `/customvision/v3.3/training/projects/${projectId}/tags?name=x`, headers: {} },
    ];
    const requests = Array.from({ length: 50 }, (_, index): FloodRequest => ({
      method: 'POST',
      body: 0,
      from: ADDRESS.flood,
      ...targets[index % targets.length],
    }));
    const attack = await prepareFlood(baseUrl, [body], requests);
    const report = await underAttack(baseUrl, () => attack.send());
    expectStayedLive(report, HEALTH_BOUND_MS, MAX_RSS_GROWTH_BYTES);
    expect(new Set(report.result.map(({ status, bytes }) => `${status} ${bytes < MAX_ERROR_BYTES}`))).toEqual(
      new Set(['401 true']),
    );
  });

  it('decodes prediction images within a pixel budget: four one-colour PNGs of 52 MP each at once, memory bounded', async () => {
    const body = multipartImage(
      await sharp({ create: { width: 7200, height: 7200, channels: 3, background: '#c00' } })
        .png()
        .toBuffer(),
    );
    const requests = Array.from({ length: 4 }, (): FloodRequest => ({
      method: 'POST',
      path: `/v1/predict/${deploymentId}`,
      body: 0,
      headers: { 'content-type': 'multipart/form-data; boundary=probe', 'x-api-key': deploymentKey },
      from: ADDRESS.user,
    }));
    const attack = await prepareFlood(baseUrl, [body], requests);
    const report = await underAttack(baseUrl, () => attack.send());
    expectStayedLive(report, HEALTH_BOUND_MS, MAX_RSS_GROWTH_PREDICTING_BYTES);
    // Each is answered, one after another.
    expect(report.result.map(({ status }) => status)).toEqual(requests.map(() => 200));
  });

  it("leaves libuv's thread pool to the api's files while 300 anonymous logins hash passwords", async () => {
    // argon2 runs on the thread pool that file reads and writes and zlib share (4 threads): with every login
    // hashing at once, a file operation of the api waited for the whole queue (40 logins: 2.4 s, 300: ~15 s).
    const requests = Array.from({ length: 300 }, (_, index): FloodRequest => ({
      method: 'POST',
      path: '/v1/auth/login',
      body: index,
      from: `127.0.${10 + (index >> 7)}.${(index & 127) + 1}`,
    }));
    const bodies = requests.map((_, index) =>
      Buffer.from(JSON.stringify({ username: `ghost${index}`, password: `not the passphrase ${index}` })),
    );
    const attack = await prepareFlood(baseUrl, bodies, requests);
    let slowestFileMs = 0;
    const report = await underAttack(baseUrl, async () => {
      const answers = attack.send();
      let done = false;
      void answers.finally(() => (done = true));
      while (!done) {
        const started = performance.now();
        await stat(testApp.dataDir);
        slowestFileMs = Math.max(slowestFileMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return answers;
    });
    expectStayedLive(report, HEALTH_BOUND_MS, MAX_RSS_GROWTH_BYTES);
    // Those past SIGN_IN_MAX_WAITING are told at once to come back (see sign-in-queue.e2e-spec.ts).
    expect(new Set(report.result.map(({ status, code }) => `${status} ${code}`))).toEqual(
      new Set(['401 INVALID_CREDENTIALS', '503 SIGN_IN_BUSY']),
    );
    const boundMs = HEALTH_BOUND_MS * Math.max(1, report.loadPerCore);
    expect(slowestFileMs, `slowest fs.stat at load ${report.loadPerCore.toFixed(1)} per core`).toBeLessThan(boundMs);
  });

  it('answers the vectors it already handled with a small 4xx and a stable code', async () => {
    const get = (path: string, headers: Record<string, string> = {}) =>
      call('GET', path, { headers, from: ADDRESS.table });
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const raw = (request: string) => exchange(baseUrl, Buffer.from(request), 'end');
    const table: Array<
      [string, () => Promise<{ status: number; bytes: number; body: Record<string, unknown> }>, number, string]
    > = [
      [
        '100,000 qs array items (a URL over 16 KiB)',
        () => get(`/v1/projects?${'a[]=1&'.repeat(100_000)}`),
        431,
        'HEADERS_TOO_LARGE',
      ],
      [
        'a 1 MB bearer token',
        () => get('/v1/projects', { authorization: `Bearer ${'a'.repeat(1 << 20)}` }),
        431,
        'HEADERS_TOO_LARGE',
      ],
      [
        '2,000 headers',
        () => get('/v1/projects', Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, '1']))),
        431,
        'HEADERS_TOO_LARGE',
      ],
      ['qs nesting 1,000 deep', () => get(`/v1/projects?a${'[0]'.repeat(1000)}=1`), 401, 'UNAUTHENTICATED'],
      ['a broken percent-encoding in a path parameter', () => get('/v1/projects/%E0%A4%A'), 400, 'BAD_REQUEST'],
      ['a lone surrogate in a path parameter', () => get('/v1/projects/%ED%A0%80'), 400, 'BAD_REQUEST'],
      [
        'an absolute-form target whose host cannot be parsed',
        () => raw('GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n'),
        400,
        'MALFORMED_REQUEST',
      ],
      ['an encoded traversal', () => get('/docs/..%2f..%2f..%2fpackage.json'), 404, 'NOT_FOUND'],
      ['an encoded backslash traversal', () => get('/assets/..%5c..%5cpackage.json'), 404, 'NOT_FOUND'],
      [
        'a JWT with alg none',
        () => get('/v1/projects', { authorization: `Bearer ${b64({ alg: 'none' })}.${b64({ sub: 'x', exp: 9e9 })}.` }),
        401,
        'TOKEN_INVALID',
      ],
      ['a JWT of bad base64', () => get('/v1/projects', { authorization: 'Bearer !!.@@.##' }), 401, 'TOKEN_MALFORMED'],
      [
        'a JWT whose header is not an object',
        () => get('/v1/projects', { authorization: `Bearer ${b64(null)}.${b64(null)}.c2ln` }),
        401,
        'TOKEN_MALFORMED',
      ],
      ['Basic credentials', () => get('/v1/projects', { authorization: 'Basic YTpi' }), 401, 'MALFORMED_AUTHORIZATION'],
      [
        'a 14 KB Training-Key',
        () => get('/customvision/v3.3/training/projects', { 'training-key': 'dml_'.padEnd(14_000, 'x') }),
        401,
        'Unauthorized',
      ],
      [
        'a NUL byte in a header',
        () => raw('GET /health HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n'),
        400,
        'MALFORMED_REQUEST',
      ],
      [
        'Content-Length and chunked together',
        () =>
          raw(
            'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
          ),
        400,
        'MALFORMED_REQUEST',
      ],
      [
        'a gzip body inside gzip',
        () =>
          call('POST', '/v1/auth/login', {
            body: '{}',
            headers: { 'content-encoding': 'gzip, gzip' },
            from: ADDRESS.table,
          }),
        415,
        'UNSUPPORTED_CONTENT_ENCODING',
      ],
      [
        'an EBCDIC body',
        () =>
          call('POST', '/v1/auth/login', {
            body: '{}',
            headers: { 'content-type': 'application/json; charset=ebcdic' },
            from: ADDRESS.table,
          }),
        415,
        'UNSUPPORTED_CHARSET',
      ],
      [
        'a JPEG declaring 60,000 × 60,000',
        async () =>
          call('POST', `/v1/predict/${deploymentId}`, {
            body: multipartImage(await jpegDeclaring(60_000, 60_000)),
            headers: { 'content-type': 'multipart/form-data; boundary=probe', 'x-api-key': deploymentKey },
            from: ADDRESS.table,
          }),
        413,
        'IMAGE_TOO_LARGE',
      ],
      [
        'a GIF declaring 65,535 × 65,535',
        () =>
          call('POST', `/v1/predict/${deploymentId}`, {
            body: multipartImage(hollowGif(65_535)),
            headers: { 'content-type': 'multipart/form-data; boundary=probe', 'x-api-key': deploymentKey },
            from: ADDRESS.table,
          }),
        413,
        'IMAGE_TOO_LARGE',
      ],
      [
        'an SVG',
        () =>
          call('POST', `/v1/predict/${deploymentId}`, {
            body: multipartImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="60000" height="60000"/>')),
            headers: { 'content-type': 'multipart/form-data; boundary=probe', 'x-api-key': deploymentKey },
            from: ADDRESS.table,
          }),
        415,
        'UNSUPPORTED_IMAGE_FORMAT',
      ],
    ];
    const answers: string[] = [];
    for (const [vector, attempt] of table) {
      const response = await attempt();
      answers.push(
        `${vector}: ${response.status} ${String(response.body.code)} ${response.bytes < MAX_ERROR_BYTES ? 'small' : 'large'}`,
      );
    }
    expect(answers).toEqual(table.map(([vector, , status, code]) => `${vector}: ${status} ${code} small`));
  });

  it('lets no __proto__ or constructor key of a JSON body reach an object prototype', async () => {
    const body =
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"username":"mallory","password":"a long passphrase of mallory"}';
    const registered = await call('POST', '/v1/auth/register', { body, from: ADDRESS.table });
    expect(registered.status).toBe(201);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(registered.body).toEqual({ id: expect.any(String), username: 'mallory' });
  });
});
