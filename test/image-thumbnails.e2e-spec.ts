import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { ApiClient } from './support/api-client.js';
import { RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/** The response body as bytes (supertest buffers only text and JSON by itself). */
function binary(request: ReturnType<TestApp['http']['get']>) {
  return request.buffer(true).parse((response, done) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => done(null, Buffer.concat(chunks)));
  });
}

describe('image thumbnails over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('serves a WebP no larger than the size asked, keeping the aspect ratio, cacheable for good and revalidated by ETag', async () => {
    const project = await client.createProject('classification', ['red']);
    const wide = await sharp({
      create: { width: 600, height: 300, channels: 3, background: { r: RED[0], g: RED[1], b: RED[2] } },
    })
      .png()
      .toBuffer();
    const [uploaded] = await client.upload(project.id, [wide]);
    const url = `/v1/projects/${project.id}/images/${uploaded.id}/thumbnail`;

    const small = await binary(client.http.get(`${url}?size=128`).set('Authorization', client.auth)).expect(200);
    expect(small.headers['content-type']).toBe('image/webp');
    expect(small.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    const metadata = await sharp(small.body as Buffer).metadata();
    expect(metadata).toMatchObject({ format: 'webp', width: 128, height: 64 });

    const revalidated = await client.http
      .get(`${url}?size=128`)
      .set('Authorization', client.auth)
      .set('If-None-Match', small.headers.etag);
    expect(revalidated.status).toBe(304);

    const byDefault = await binary(client.http.get(url).set('Authorization', client.auth)).expect(200);
    expect(byDefault.headers.etag).not.toBe(small.headers.etag);
    expect(await sharp(byDefault.body as Buffer).metadata()).toMatchObject({ width: 256, height: 128 });
  });

  it('never enlarges a small image', async () => {
    const project = await client.createProject('classification', ['red']);
    const tiny = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#00f' } })
      .png()
      .toBuffer();
    const [uploaded] = await client.upload(project.id, [tiny]);
    const response = await binary(
      client.http
        .get(`/v1/projects/${project.id}/images/${uploaded.id}/thumbnail?size=512`)
        .set('Authorization', client.auth),
    ).expect(200);
    expect(await sharp(response.body as Buffer).metadata()).toMatchObject({ width: 20, height: 10 });
  });

  it('shows a phone photo stored sideways upright: its size, its thumbnail, and the bytes sent back as they came', async () => {
    const project = await client.createProject('classification', ['red']);
    // Upright 32×16: left half red, right half blue; stored a quarter turn counter-clockwise with EXIF orientation 6.
    const upright = await sharp({ create: { width: 32, height: 16, channels: 3, background: '#f00' } })
      .composite([{ input: { create: { width: 16, height: 16, channels: 3, background: '#00f' } }, left: 16, top: 0 }])
      .png()
      .toBuffer();
    const sideways = await sharp(upright)
      .rotate(270)
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const [uploaded] = await client.upload(project.id, [sideways]);
    const image = await client.http
      .get(`/v1/projects/${project.id}/images/${uploaded.id}`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(image.body).toMatchObject({ width: 32, height: 16 });

    const thumbnail = await binary(
      client.http.get(`/v1/projects/${project.id}/images/${uploaded.id}/thumbnail`).set('Authorization', client.auth),
    ).expect(200);
    const { data, info } = await sharp(thumbnail.body as Buffer)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 32, height: 16 });
    const at = (x: number, y: number) =>
      Array.from(data.subarray((y * 32 + x) * info.channels, (y * 32 + x) * info.channels + 3));
    expect(at(4, 8)[0]).toBeGreaterThan(200);
    expect(at(28, 8)[2]).toBeGreaterThan(200);

    const content = await binary(
      client.http.get(`/v1/projects/${project.id}/images/${uploaded.id}/content`).set('Authorization', client.auth),
    ).expect(200);
    expect(Buffer.compare(content.body as Buffer, sideways)).toBe(0);
  });

  it("shows a photo's colours as its colour profile means them, whatever it was stored as", async () => {
    const project = await client.createProject('classification', ['red']);
    // sRGB's pure red stored in Display P3 (pixels ~(234, 51, 35)): a paler red wherever the profile is ignored.
    const p3Red = () =>
      sharp({ create: { width: 16, height: 16, channels: 3, background: '#f00' } }).withIccProfile('p3');
    const photos = {
      'an 8-bit JPEG': await p3Red().jpeg({ quality: 100 }).toBuffer(),
      'a 16-bit PNG': await p3Red().toColourspace('rgb16').png().toBuffer(),
      // An iPhone's HEIC, converted to JPEG when taken (made by heif-enc, see heic-conversion.spec).
      'a HEIC': readFileSync(new URL('./fixtures/red-display-p3.heic', import.meta.url)),
    };
    const uploaded = await client.upload(project.id, Object.values(photos));
    const shown: Record<string, number[]> = {};
    for (const [index, name] of Object.keys(photos).entries()) {
      const thumbnail = await binary(
        client.http
          .get(`/v1/projects/${project.id}/images/${uploaded[index].id}/thumbnail?size=64`)
          .set('Authorization', client.auth),
      ).expect(200);
      const { data, info } = await sharp(thumbnail.body as Buffer)
        .raw()
        .toBuffer({ resolveWithObject: true });
      const sums = [0, 0, 0];
      for (let i = 0; i < data.length; i += info.channels) for (let c = 0; c < 3; c += 1) sums[c] += data[i + c];
      shown[name] = sums.map((sum) => Math.round(sum / (data.length / info.channels)));
    }
    for (const colour of Object.values(shown)) {
      expect(colour[0]).toBeGreaterThanOrEqual(245);
      expect(Math.max(colour[1], colour[2])).toBeLessThanOrEqual(12);
    }
  });

  it('refuses a size it does not make, and images of projects the caller does not own', async () => {
    const project = await client.createProject('classification', ['red']);
    const [uploaded] = await client.upload(project.id, [
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
        .png()
        .toBuffer(),
    ]);
    const url = `/v1/projects/${project.id}/images/${uploaded.id}/thumbnail`;
    const odd = await client.http.get(`${url}?size=100`).set('Authorization', client.auth).expect(400);
    expect(odd.body.message).toContain('size must be one of 64, 128, 256, 512');
    const stranger = await registerAndLogIn(testApp);
    await client.http.get(url).set('Authorization', stranger.auth).expect(404);
  });
});
