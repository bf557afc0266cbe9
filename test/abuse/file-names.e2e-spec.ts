import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore } from '@diyml/event-store';
import { ApiClient } from '../support/api-client.js';
import { deployedTinyModel } from '../support/deployed-tiny-model.js';
import { colouredSquares, RED } from '../support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from '../support/test-app.js';

vi.setConfig({ testTimeout: 120_000 });

const BOUNDARY = 'diymlNameBoundary';

/**
 * How a part names its file. busboy (behind multer) decodes `filename*` and keeps only the last segment of a
 * path; Custom Vision's own parser reads `filename="…"` as sent, so a path reaches it whole. (A lone surrogate
 * cannot come in UTF-8 bytes, which decode to U+FFFD: JSON names can carry one, tried below.)
 */
const NAMES = [
  { problem: 'a control character', multer: `filename*=UTF-8''bell%07.png`, raw: 'filename="bell\u0007.png"' },
  { problem: 'over 255 bytes', multer: `filename="${'n'.repeat(300)}.png"`, raw: `filename="${'n'.repeat(300)}.png"` },
  { problem: 'a path separator', multer: null, raw: 'filename="../../etc/evil.png"' },
  { problem: 'a backslash', multer: null, raw: 'filename="C:\\\\temp\\\\evil.png"' },
];

function multipart(field: string, filenameParameter: string, contentType: string, bytes: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; ${filenameParameter}\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`,
      'latin1',
    ),
    bytes,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

describe('file names a client gives, on every route that takes a file', () => {
  let testApp: TestApp;
  let auth: string;
  let token: string;
  let projectId: string;
  let deployment: { id: string; apiKey: string };
  let png: Buffer;

  async function written() {
    const imports = join(testApp.dataDir, 'imports');
    return {
      headPosition: await testApp.app.get(EventStore).headPosition(),
      imports: existsSync(imports) ? readdirSync(imports) : [],
    };
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    auth = (await registerAndLogIn(testApp)).auth;
    const client = new ApiClient(testApp, auth);
    const deployed = await deployedTinyModel(client, ['red', 'blue'], 'names');
    projectId = deployed.project.id;
    deployment = deployed.deployment;
    const created = await testApp.http
      .post('/v1/users/me/tokens')
      .set('Authorization', auth)
      .send({ name: 'custom vision' })
      .expect(201);
    token = created.body.token as string;
    [png] = await colouredSquares(RED, 1, 11);
  }, 60_000);

  afterAll(async () => {
    await testApp?.destroy();
  });

  const cv = (path: string) => `/customvision/v3.3/training/projects/${path}`;
  /** Routes whose multipart bodies multer reads: the api's own error body, 400 INVALID_FILENAME. */
  const multerRoutes = () => [
    { route: 'project import', path: '/v1/projects/import', field: 'archive', type: 'application/zip', key: {} },
    {
      route: 'dataset import',
      path: `/v1/projects/${projectId}/images/import`,
      field: 'archive',
      type: 'application/zip',
      key: {},
    },
    { route: 'image upload', path: `/v1/projects/${projectId}/images`, field: 'images', type: 'image/png', key: {} },
    { route: 'video upload', path: `/v1/projects/${projectId}/videos`, field: 'video', type: 'video/webm', key: {} },
    {
      route: 'model import',
      path: `/v1/projects/${projectId}/models`,
      field: 'model',
      type: 'application/zip',
      key: {},
    },
    {
      route: 'prediction image',
      path: `/v1/predict/${deployment.id}`,
      field: 'image',
      type: 'image/png',
      key: { 'X-Api-Key': deployment.apiKey },
    },
    {
      route: 'video prediction',
      path: `/v1/predict/${deployment.id}/videos`,
      field: 'video',
      type: 'video/webm',
      key: { 'X-Api-Key': deployment.apiKey },
    },
  ];
  /** Custom Vision's routes, read by its own parser: its `{code, message}` body, 400 BadRequest. */
  const customVisionRoutes = () => [
    { route: 'Custom Vision image data', path: cv(`${projectId}/images`), key: { 'Training-Key': token } },
    { route: 'Custom Vision quick test', path: cv(`${projectId}/quicktest/image`), key: { 'Training-Key': token } },
    {
      route: 'Custom Vision prediction',
      path: `/customvision/v3.0/prediction/${projectId}/classify/iterations/names/image`,
      key: { 'Prediction-Key': deployment.apiKey },
    },
  ];

  it('refuses a name with a control character, a path separator or over 255 bytes on every route, storing nothing', async () => {
    const refusals: unknown[] = [];
    const expected: unknown[] = [];
    const tried = async (route: string, problem: string, send: () => Promise<{ status: number; body: object }>) => {
      const before = await written();
      const answer = await send();
      const { code, message } = answer.body as { code?: string; message?: string };
      refusals.push({ route, problem, status: answer.status, code, fixable: /rename the file/.test(String(message)) });
      expect({ route, problem, ...(await written()) }).toEqual({ route, problem, ...before });
      return code;
    };
    for (const name of NAMES) {
      for (const route of name.multer === null ? [] : multerRoutes()) {
        const body = multipart(route.field, name.multer!, route.type, png);
        await tried(route.route, name.problem, () =>
          testApp.http
            .post(route.path)
            .set({ Authorization: auth, ...route.key, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` })
            .send(body),
        );
        expected.push({
          route: route.route,
          problem: name.problem,
          status: 400,
          code: 'INVALID_FILENAME',
          fixable: true,
        });
      }
      for (const route of customVisionRoutes()) {
        const body = multipart('imageData', name.raw, 'image/png', png);
        await tried(route.route, name.problem, () =>
          testApp.http
            .post(route.path)
            .set({ ...route.key, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` })
            .send(body),
        );
        expected.push({ route: route.route, problem: name.problem, status: 400, code: 'BadRequest', fixable: true });
      }
    }
    expect(refusals).toEqual(expected);
  });

  it("refuses such names, and lone surrogates, in Custom Vision's images/files batches too, storing nothing", async () => {
    for (const name of ['bell\u0007.png', 'half\ud800.png', 'folder/evil.png', `${'n'.repeat(300)}.png`]) {
      const before = await written();
      const answer = await testApp.http
        .post(cv(`${projectId}/images/files`))
        .set('Training-Key', token)
        .send({ images: [{ name, contents: png.toString('base64') }] });
      expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 400, code: 'BadRequest' });
      expect(answer.body.message).toMatch(/rename the file/);
      expect(await written()).toEqual(before);
    }
  });

  it('still takes plain names on the same routes', async () => {
    const upload = await testApp.http
      .post(`/v1/projects/${projectId}/images`)
      .set({ Authorization: auth, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` })
      .send(multipart('images', 'filename="photo de vacances é.png"', 'image/png', png));
    expect(upload.status).toBe(201);
    const prediction = await testApp.http
      .post(`/v1/predict/${deployment.id}`)
      .set({ 'X-Api-Key': deployment.apiKey, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` })
      .send(multipart('image', 'filename="photo.png"', 'image/png', png));
    expect(prediction.status).toBe(200);
    const batch = await testApp.http
      .post(cv(`${projectId}/images/files`))
      .set('Training-Key', token)
      .send({ images: [{ name: 'photo.png', contents: png.toString('base64') }] });
    expect(batch.status).toBe(200);
  });
});
