import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

/**
 * The formats users send, each through upload, thumbnail, training and prediction; an iPhone's HEIC photos are taken,
 * kept as JPEG; those not taken (BMP, SVG) answer 415 with a code and a message saying how to convert them, in
 * uploads, imports and predictions.
 */

/** The same picture in each format taken, as phones, editors and converters write them. */
const TAKEN: Record<string, (png: Buffer) => Promise<Buffer>> = {
  jpeg: (png) => sharp(png).jpeg().toBuffer(),
  'progressive jpeg': (png) => sharp(png).jpeg({ progressive: true }).toBuffer(),
  'cmyk jpeg': (png) => sharp(png).toColourspace('cmyk').jpeg().toBuffer(),
  // An alpha channel, opaque as a screenshot's (a translucent one is flattened onto white: another colour).
  'png with alpha': (png) => sharp(png).ensureAlpha(1).png().toBuffer(),
  '16-bit png': (png) => sharp(png).toColourspace('rgb16').png().toBuffer(),
  webp: (png) => sharp(png).webp().toBuffer(),
  avif: (png) => sharp(png).avif().toBuffer(),
  tiff: (png) => sharp(png).tiff().toBuffer(),
  gif: (png) => sharp(png).gif().toBuffer(),
};

/** A 24-bit BMP of raw RGB pixels (sharp writes none): BITMAPINFOHEADER, bottom-up rows padded to 4 bytes. */
async function bmp(png: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rowBytes = Math.ceil((info.width * 3) / 4) * 4;
  const file = Buffer.alloc(54 + rowBytes * info.height);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(info.width, 18);
  file.writeInt32LE(info.height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const from = (y * info.width + x) * 3;
      const to = 54 + (info.height - 1 - y) * rowBytes + x * 3;
      file[to] = data[from + 2];
      file[to + 1] = data[from + 1];
      file[to + 2] = data[from];
    }
  }
  return file;
}

/**
 * The start of an iPhone's HEIC file and nothing more: its 'ftyp' box (brands heic, mif1, miaf) and an empty 'meta'
 * box. A HEIC that holds no picture.
 */
function heicHeader(): Buffer {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftypheic', 4, 'latin1');
  ftyp.write('mif1miafheic', 12, 'latin1');
  const meta = Buffer.alloc(512, 0);
  meta.writeUInt32BE(512, 0);
  meta.write('meta', 4, 'latin1');
  return Buffer.concat([ftyp, meta]);
}

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
/** A 320x240 photo as HEIC (heif-enc), and the same stored sideways with the rotation that shows it upright. */
const HEIC_PHOTO = fixture('photo.heic');
const HEIC_TURNED = fixture('photo-turned.heic');

const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><rect width="24" height="24" fill="red"/></svg>',
);

describe('image formats users send', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let token: string;
  let red: Buffer[];
  let blue: Buffer[];

  beforeAll(async () => {
    testApp = await startTestApp();
    const user = await registerAndLogIn(testApp);
    client = new ApiClient(testApp, user.auth);
    token = (
      await testApp.http.post('/v1/users/me/tokens').set('Authorization', user.auth).send({ name: 'cv' }).expect(201)
    ).body.token;
    red = await colouredSquares(RED, 6, 1, 24);
    blue = await colouredSquares(BLUE, 6, 2, 24);
  });
  afterAll(() => testApp.destroy());

  async function uploadOne(projectId: string, bytes: Buffer, filename: string, label?: string) {
    let request = client.http.post(`/v1/projects/${projectId}/images`).set('Authorization', client.auth);
    request = request.attach('images', bytes, filename);
    if (label) request = request.field('label', label);
    return request;
  }

  it('takes every format a phone or an editor writes through upload, thumbnail, training and prediction', async () => {
    const project = await client.createProject('classification', ['red', 'blue']);
    const formats = Object.entries(TAKEN);
    for (const [label, pictures] of [
      ['red', red],
      ['blue', blue],
    ] as const) {
      for (const [index, [format, make]] of formats.entries()) {
        const bytes = await make(pictures[index % pictures.length]);
        const uploaded = await uploadOne(project.id, bytes, `${label} ${format}`, label);
        expect({ format, status: uploaded.status, item: uploaded.body.items?.[0]?.status }).toEqual({
          format,
          status: 201,
          item: 'created',
        });
        const id = uploaded.body.items[0].id as string;
        const thumbnail = await client.http
          .get(`/v1/projects/${project.id}/images/${id}/thumbnail`)
          .set('Authorization', client.auth)
          .buffer(true)
          .parse((response, done) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => done(null, Buffer.concat(chunks)));
          });
        expect({ format, status: thumbnail.status }).toEqual({ format, status: 200 });
        const { data } = await sharp(thumbnail.body as Buffer)
          .flatten({ background: '#ffffff' })
          .resize(1, 1)
          .raw()
          .toBuffer({ resolveWithObject: true });
        // The thumbnail shows the picture's colour.
        const [r, , b] = data;
        expect({ format, label, redder: r > b }).toEqual({ format, label, redder: label === 'red' });
      }
    }

    const queued = await client.train(project.id, {
      architecture: 'small-cnn',
      imageSize: 16,
      epochs: 15,
      batchSize: 4,
      learningRate: 0.01,
      seed: 7,
      validationSplit: 0,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
    });
    const iteration = await client.waitForIteration(project.id, queued.id);
    expect(iteration.status).toBe('completed');
    const deployed = await client.http
      .post(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId: queued.id, name: 'formats' })
      .expect(201);
    const [freshRed] = await colouredSquares(RED, 1, 11, 24);
    const [freshBlue] = await colouredSquares(BLUE, 1, 12, 24);
    for (const [format, make] of formats) {
      for (const [label, picture] of [
        ['red', freshRed],
        ['blue', freshBlue],
      ] as const) {
        const answer = await client.http
          .post(`/v1/predict/${deployed.body.id}`)
          .set('X-Api-Key', deployed.body.apiKey)
          .set('Content-Type', 'application/octet-stream')
          .send(await make(picture));
        expect({ format, label, status: answer.status, top: answer.body.predictions?.[0]?.label }).toEqual({
          format,
          label,
          status: 200,
          top: label,
        });
      }
    }
    // Greyscale pictures (a scanner's JPEG, a 16-bit grey PNG): taken and predicted, though their colour is gone.
    for (const grey of [
      await sharp(freshRed).greyscale().jpeg().toBuffer(),
      await sharp(freshRed).toColourspace('grey16').png().toBuffer(),
    ]) {
      expect((await uploadOne(project.id, grey, 'grey', 'red')).status).toBe(201);
      const answer = await client.http
        .post(`/v1/predict/${deployed.body.id}`)
        .set('X-Api-Key', deployed.body.apiKey)
        .set('Content-Type', 'application/octet-stream')
        .send(grey);
      expect([answer.status, answer.body.predictions?.length]).toEqual([200, 2]);
    }
  });

  async function thumbnailOf(projectId: string, imageId: string): Promise<Buffer> {
    const thumbnail = await client.http
      .get(`/v1/projects/${projectId}/images/${imageId}/thumbnail`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    return thumbnail.body as Buffer;
  }

  it('takes an iPhone HEIC photo: kept as an upright JPEG under its name, a duplicate when sent again, predicted on', async () => {
    const project = await client.createProject('classification', ['red', 'blue']);
    const uploaded = await client.http
      .post(`/v1/projects/${project.id}/images`)
      .set('Authorization', client.auth)
      .attach('images', HEIC_PHOTO, 'IMG_0001.HEIC')
      .attach('images', HEIC_TURNED, 'IMG_0002.HEIC')
      .attach('images', HEIC_PHOTO, 'IMG_0001 copy.HEIC')
      .field('label', 'red')
      .expect(201);
    const [photo, turned, again] = uploaded.body.items as { filename: string; status: string; id: string }[];
    expect([photo, turned]).toEqual([
      expect.objectContaining({ filename: 'IMG_0001.HEIC', status: 'created' }),
      expect.objectContaining({ filename: 'IMG_0002.HEIC', status: 'created' }),
    ]);
    expect(again).toMatchObject({ filename: 'IMG_0001 copy.HEIC', status: 'duplicate', id: photo.id });
    for (const { id } of [photo, turned]) {
      const image = await client.http
        .get(`/v1/projects/${project.id}/images/${id}`)
        .set('Authorization', client.auth)
        .expect(200);
      expect(image.body).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
      // The thumbnail is the photo upright too: landscape, 4:3.
      const thumbnail = await sharp(await thumbnailOf(project.id, id)).metadata();
      expect(thumbnail.width / thumbnail.height).toBeCloseTo(4 / 3, 1);
    }

    await client.upload(project.id, red, { label: 'red' });
    await client.upload(project.id, blue, { label: 'blue' });
    const queued = await client.train(project.id, {
      architecture: 'small-cnn',
      imageSize: 16,
      epochs: 1,
      batchSize: 8,
      validationSplit: 0,
    });
    expect((await client.waitForIteration(project.id, queued.id)).status).toBe('completed');
    const quick = await client.http
      .post(`/v1/projects/${project.id}/iterations/${queued.id}/quick-test`)
      .set('Authorization', client.auth)
      .set('Content-Type', 'application/octet-stream')
      .send(HEIC_TURNED);
    expect([quick.status, quick.body.predictions?.length]).toEqual([200, 2]);
    const testRuns = `/v1/projects/${project.id}/iterations/${queued.id}/test-runs`;
    const requested = await client.http
      .post(testRuns)
      .set('Authorization', client.auth)
      .attach('images', HEIC_TURNED, 'IMG_0002.HEIC')
      .field('labels', JSON.stringify({ 'IMG_0002.HEIC': 'red' }))
      .expect(202);
    let run = requested.body as { status: string; predictions?: unknown[] };
    while (run.status === 'requested') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = (await client.http.get(`${testRuns}/${requested.body.id}`).set('Authorization', client.auth).expect(200))
        .body;
    }
    expect(run.status).toBe('completed');
    expect(run.predictions).toEqual([expect.objectContaining({ filename: 'IMG_0002.HEIC', expected: 'red' })]);
    const deployed = await client.http
      .post(`/v1/projects/${project.id}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId: queued.id, name: 'heic' })
      .expect(201);
    const predicted = await client.http
      .post(`/v1/predict/${deployed.body.id}`)
      .set('X-Api-Key', deployed.body.apiKey)
      .set('Content-Type', 'image/heic')
      .send(HEIC_PHOTO);
    expect([predicted.status, predicted.body.predictions?.length]).toEqual([200, 2]);

    const empty = await uploadOne(project.id, heicHeader(), 'IMG_0003.HEIC');
    expect([empty.status, empty.body.code]).toEqual([400, 'CORRUPT_IMAGE']);
    const emptyPrediction = await client.http
      .post(`/v1/predict/${deployed.body.id}`)
      .set('X-Api-Key', deployed.body.apiKey)
      .set('Content-Type', 'image/heic')
      .send(heicHeader());
    expect([emptyPrediction.status, emptyPrediction.body.code]).toEqual([400, 'INVALID_IMAGE']);
  });

  describe('refuses a format not taken with 415, a stable code and how to convert it', () => {
    const refused: [string, () => Promise<Buffer>, string][] = [
      ['bmp', () => bmp(red[0]), 'PNG'],
      ['svg', async () => SVG, 'PNG'],
    ];

    it.each(refused)('%s in an upload: 415 alone, a rejected item beside a taken one', async (format, make, advice) => {
      const project = await client.createProject('classification', ['red']);
      const alone = await uploadOne(project.id, await make(), `photo.${format}`);
      expect(alone.status).toBe(415);
      expect(alone.body).toMatchObject({ code: 'UNSUPPORTED_IMAGE_FORMAT' });
      expect(alone.body.message).toContain('JPEG, PNG, WebP, AVIF, TIFF, GIF or HEIC');
      expect(alone.body.message).toContain(advice);

      const mixed = await client.http
        .post(`/v1/projects/${project.id}/images`)
        .set('Authorization', client.auth)
        .attach('images', await make(), `photo.${format}`)
        .attach('images', red[0], 'red.png');
      expect(mixed.status).toBe(207);
      expect(mixed.body.items).toEqual([
        {
          filename: `photo.${format}`,
          status: 'rejected',
          error: { code: 'UNSUPPORTED_IMAGE_FORMAT', message: expect.stringContaining(advice) },
        },
        expect.objectContaining({ filename: 'red.png', status: 'created' }),
      ]);
    });

    it('in a dataset import: each such item reported, 415 when no image is taken', async () => {
      const project = await client.createProject('classification', ['red']);
      const importZip = (files: Record<string, Buffer>) =>
        client.http
          .post(`/v1/projects/${project.id}/images/import`)
          .set('Authorization', client.auth)
          .attach('archive', Buffer.from(zipSync(files)), 'photos.zip');

      const mixed = await importZip({ 'red/IMG_0001.HEIC': HEIC_PHOTO, 'red/scan.bmp': await bmp(red[1]) });
      expect(mixed.status).toBe(207);
      const items = mixed.body.items as { filename: string; status: string; id?: string; error?: { code: string } }[];
      const heic = items.find((item) => item.filename === 'red/IMG_0001.HEIC');
      expect(heic).toMatchObject({ status: 'created' });
      const imported = await client.http
        .get(`/v1/projects/${project.id}/images/${heic!.id}`)
        .set('Authorization', client.auth)
        .expect(200);
      expect(imported.body).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
      expect(await sharp(await thumbnailOf(project.id, heic!.id!)).metadata()).toMatchObject({ format: 'webp' });
      expect(items.find((item) => item.filename === 'red/scan.bmp')).toMatchObject({
        status: 'rejected',
        error: { code: 'UNSUPPORTED_IMAGE_FORMAT', message: expect.stringContaining('PNG') },
      });

      const none = await importZip({ 'red/drawing.svg': SVG, 'red/scan.bmp': await bmp(red[2]) });
      expect([none.status, none.body.code]).toEqual([415, 'UNSUPPORTED_IMAGE_FORMAT']);
      expect(none.body.details.items).toHaveLength(2);
    });

    it.each(refused)(
      '%s in a prediction: 415 on the native route, Azure’s 415 shape on Custom Vision’s',
      async (format, make, advice) => {
        const project = await client.createProject('classification', ['red', 'blue']);
        await client.upload(project.id, red, { label: 'red' });
        await client.upload(project.id, blue, { label: 'blue' });
        const queued = await client.train(project.id, {
          architecture: 'small-cnn',
          imageSize: 16,
          epochs: 1,
          batchSize: 8,
          validationSplit: 0,
        });
        expect((await client.waitForIteration(project.id, queued.id)).status).toBe('completed');
        const deployed = await client.http
          .post(`/v1/projects/${project.id}/deployments`)
          .set('Authorization', client.auth)
          .send({ iterationId: queued.id, name: `refusing-${format}` })
          .expect(201);
        const bytes = await make();

        const native = await client.http
          .post(`/v1/predict/${deployed.body.id}`)
          .set('X-Api-Key', deployed.body.apiKey)
          .set('Content-Type', 'application/octet-stream')
          .send(bytes);
        expect([native.status, native.body.code]).toEqual([415, 'UNSUPPORTED_IMAGE_FORMAT']);
        expect(native.body.message).toContain(advice);

        const customVision = await client.http
          .post(`/customvision/v3.0/prediction/${project.id}/classify/iterations/refusing-${format}/image`)
          .set('Prediction-Key', token)
          .set('Content-Type', 'application/octet-stream')
          .send(bytes);
        expect(customVision.status).toBe(415);
        expect(customVision.body).toEqual({ code: 'UnsupportedMediaType', message: expect.stringContaining(advice) });
      },
    );
  });
});
