import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Zip, ZipDeflate, unzipSync, zipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { ModelProto, prepareImage, type InputSpec } from '@diyml/ml';
import { ApiClient } from './support/api-client.js';
import { BLUE, colourPicture, colouredSquares, MULTILABEL_TRAINING_SETS, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { keras2Sequential, keras3Functional } from './fixtures/keras/keras-fixtures.js';

type Prediction = { label: string; probability: number };

/** A zip written as a stream (as `zip -` or a browser's streaming writer does): sizes and CRCs in data descriptors after each entry. */
function rezipAsStream(zip: Uint8Array): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    const writer = new Zip((error, chunk, final) => {
      if (error) return reject(error);
      chunks.push(chunk);
      if (final) resolve(Buffer.concat(chunks));
    });
    for (const [name, bytes] of Object.entries(unzipSync(zip))) {
      const entry = new ZipDeflate(name, { level: 6 });
      writer.add(entry);
      entry.push(bytes, true);
    }
    writer.end();
  });
}

/**
 * What a user takes out of diyml and brings back in: a model imported from elsewhere exported as ONNX, a model
 * exported from one project imported into another, with label names in another Unicode form or a zip written as a
 * stream. The exported or re-imported model must predict what the api predicts.
 */
describe('models taken out of diyml and brought back in', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let unseen: Buffer[];
  const sessions: ort.InferenceSession[] = [];

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    unseen = [...(await colouredSquares(RED, 2, 31)), ...(await colouredSquares(BLUE, 2, 32))];
  });
  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.release()));
    await testApp.destroy();
  });

  const download = (projectId: string, iterationId: string, format: 'tfjs' | 'onnx') =>
    client.http
      .get(`/v1/projects/${projectId}/iterations/${iterationId}/model?format=${format}`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      });

  const importModel = (projectId: string, bytes: Uint8Array, filename: string, fields: Record<string, string> = {}) => {
    let request = client.http
      .post(`/v1/projects/${projectId}/models`)
      .set('Authorization', client.auth)
      .attach('model', Buffer.from(bytes), filename);
    for (const [name, value] of Object.entries(fields)) request = request.field(name, value);
    return request;
  };

  async function quickTest(projectId: string, iterationId: string, image: Buffer): Promise<Prediction[]> {
    const response = await client.http
      .post(`/v1/projects/${projectId}/iterations/${iterationId}/quick-test`)
      .set('Authorization', client.auth)
      .attach('image', image, 'photo.png')
      .expect(200);
    return response.body.predictions as Prediction[];
  }

  /** Probabilities by label name, as the api gives them for each image. */
  async function apiScores(projectId: string, iterationId: string): Promise<Record<string, number>[]> {
    const scores: Record<string, number>[] = [];
    for (const image of unseen) {
      const predictions = await quickTest(projectId, iterationId, image);
      scores.push(Object.fromEntries(predictions.map((prediction) => [prediction.label, prediction.probability])));
    }
    return scores;
  }

  it('exports a model imported from Keras as ONNX that scores every photo as the api does, under the project label names', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'keras to onnx');
    // The file names the classes in another case: the project's names are the ones predictions carry.
    const imported = await importModel(project.id, await keras2Sequential(), 'red-blue.h5', {
      labels: 'Red,Blue',
      inputRange: '0,1',
    });
    expect(imported.status).toBe(201);

    const response = await download(project.id, imported.body.id, 'onnx');
    expect({ status: response.status, code: response.body?.code }).toEqual({ status: 200, code: undefined });
    const bytes = new Uint8Array(response.body as Buffer);
    const file = ModelProto.toObject(ModelProto.decode(bytes)) as {
      docString: string;
      metadataProps: { key: string; value: string }[];
    };
    const metadata = JSON.parse(file.metadataProps.find((entry) => entry.key === 'diyml')!.value) as InputSpec & {
      labels: string[];
      task: string;
    };
    expect(metadata).toMatchObject({ task: 'classification', labels: ['red', 'blue'], inputRange: [0, 1] });
    expect(file.docString).toContain("the model's own output, one score per label in the order of the labels");
    const session = await ort.InferenceSession.create(bytes);
    sessions.push(session);

    const expected = await apiScores(project.id, imported.body.id);
    for (const [index, image] of unseen.entries()) {
      const prepared = await prepareImage(image, metadata);
      const [low, high] = metadata.inputRange;
      const { width, height } = metadata.imageSize;
      const input = Float32Array.from(prepared.pixels, (value) => low + (value * (high - low)) / 255);
      const results = await session.run({
        image: new ort.Tensor('float32', input, [1, height, width, metadata.channels]),
      });
      const output = results[session.outputNames[0]].data as Float32Array;
      for (const [label, probability] of Object.entries(expected[index]))
        expect(output[metadata.labels.indexOf(label)]).toBeCloseTo(probability, 4);
    }
  }, 60_000);

  it('imports an exported model into a project whose label names are in another Unicode form, or from a zip written as a stream', async () => {
    // "Café" and "Crème" composed (NFC) in the project that trains, decomposed (NFD, as macOS folder names are) in the other.
    const [cafe, creme] = ['Café', 'Crème'].map((name) => name.normalize('NFC'));
    const source = await client.createProject('classification', [cafe, creme], 'source');
    await client.upload(source.id, await colouredSquares(RED, 10, 1), { label: cafe }, 'red');
    await client.upload(source.id, await colouredSquares(BLUE, 10, 2), { label: creme }, 'blue');
    const trained = await client.waitForIteration(
      source.id,
      (
        await client.train(source.id, {
          imageSize: 16,
          epochs: 6,
          batchSize: 8,
          learningRate: 0.01,
          seed: 7,
          augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
        })
      ).id,
    );
    expect(trained.status).toBe('completed');
    const zip = new Uint8Array((await download(source.id, trained.id, 'tfjs').expect(200)).body as Buffer);
    const expected = await apiScores(source.id, trained.id);

    const decomposed = [cafe, creme].map((name) => name.normalize('NFD'));
    const target = await client.createProject('classification', decomposed, 'target');
    const imported = await importModel(target.id, zip, 'iteration-1-model.zip');
    expect({ status: imported.status, body: imported.status === 201 ? undefined : imported.body }).toEqual({
      status: 201,
      body: undefined,
    });
    const scores = await apiScores(target.id, imported.body.id);
    for (const [index, byName] of expected.entries()) {
      for (const [label, probability] of Object.entries(byName))
        expect(scores[index][label.normalize('NFD')]).toBeCloseTo(probability, 5);
    }

    const streamed = await importModel(source.id, await rezipAsStream(zip), 'streamed.zip');
    expect(streamed.status).toBe(201);
    expect(await apiScores(source.id, streamed.body.id)).toEqual(expected);
  }, 120_000);

  it('exports a multilabel model with a negative label as ONNX (independent sigmoids) and imports it back, both scoring as the api does', async () => {
    const project = await client.createProject(
      'multilabel',
      ['red', 'green', 'blue', 'nothing'],
      'multilabel out and in',
    );
    await client.http
      .put(`/v1/projects/${project.id}/labels/${project.labels.nothing}/negative`)
      .set('Authorization', client.auth)
      .expect(200);
    for (const [index, set] of MULTILABEL_TRAINING_SETS.entries()) {
      const pictures = await Promise.all([0, 1, 2, 3].map((seed) => colourPicture(set, index * 10 + seed)));
      await client.upload(project.id, pictures, { labels: JSON.stringify(set) }, set.join('-'));
    }
    const blanks = await Promise.all([0, 1, 2, 3].map((seed) => colourPicture([], 100 + seed)));
    await client.upload(project.id, blanks, { labels: JSON.stringify(['nothing']) }, 'blank');
    const trained = await client.waitForIteration(
      project.id,
      (
        await client.train(project.id, {
          architecture: 'small-cnn',
          imageSize: 24,
          epochs: 4,
          batchSize: 8,
          learningRate: 0.003,
          seed: 3,
          augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
        })
      ).id,
    );
    expect(trained.status).toBe('completed');
    const photos = await Promise.all([
      colourPicture(['red', 'blue'], 500),
      colourPicture(['green'], 501),
      colourPicture([], 502),
    ]);
    const scoresOf = async (iterationId: string) =>
      Promise.all(
        photos.map(async (photo) =>
          Object.fromEntries(
            (await quickTest(project.id, iterationId, photo)).map((prediction) => [
              prediction.label,
              prediction.probability,
            ]),
          ),
        ),
      );
    const expected = await scoresOf(trained.id);
    // The negative label is no output of a multilabel model: "none" is every label below 0.5.
    expect(Object.keys(expected[0]).sort()).toEqual(['blue', 'green', 'red']);

    const onnx = new Uint8Array((await download(project.id, trained.id, 'onnx').expect(200)).body as Buffer);
    const file = ModelProto.toObject(ModelProto.decode(onnx)) as {
      docString: string;
      metadataProps: { key: string; value: string }[];
    };
    const metadata = JSON.parse(file.metadataProps.find((entry) => entry.key === 'diyml')!.value) as InputSpec & {
      labels: string[];
    };
    expect(file.docString).toContain('one independent sigmoid probability per label');
    const session = await ort.InferenceSession.create(onnx);
    sessions.push(session);
    for (const [index, photo] of photos.entries()) {
      const prepared = await prepareImage(photo, metadata);
      const { width, height } = metadata.imageSize;
      const results = await session.run({
        image: new ort.Tensor(
          'float32',
          Float32Array.from(prepared.pixels, (value) => value / 255),
          [1, height, width, 3],
        ),
      });
      const output = results[session.outputNames[0]].data as Float32Array;
      expect(Object.fromEntries(metadata.labels.map((label, position) => [label, output[position]]))).toEqual(
        Object.fromEntries(Object.entries(expected[index]).map(([label, value]) => [label, expect.closeTo(value, 4)])),
      );
    }

    const zip = new Uint8Array((await download(project.id, trained.id, 'tfjs').expect(200)).body as Buffer);
    const reimported = await importModel(project.id, zip, 'iteration-1-model.zip');
    expect(reimported.status).toBe(201);
    expect(await scoresOf(reimported.body.id)).toEqual(expected);
  }, 120_000);

  it("takes a Keras file's class names as a labels file sends them: one a line, CRLF, a byte-order mark, Teachable Machine's numbered lines", async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'keras labels file');
    const expected = ['red', 'red', 'blue', 'blue'];
    // curl -F "labels=<labels.txt": the file's text as the field, as Windows and Teachable Machine's Keras export write it.
    for (const labels of ['red\nblue\n', '\uFEFFred\r\nblue\r\n', '0 red\r\n1 blue\r\n']) {
      const imported = await importModel(project.id, await keras2Sequential(), 'keras_model.h5', {
        labels,
        inputRange: '0,1',
      });
      expect({ labels, status: imported.status, error: imported.body.message }).toEqual({
        labels,
        status: 201,
        error: undefined,
      });
      const predicted = await Promise.all(
        unseen.map(async (image) => (await quickTest(project.id, imported.body.id, image))[0].label),
      );
      expect(predicted).toEqual(expected);
    }
  }, 60_000);

  it('refuses a zip holding two models (a folder of exports zipped whole) rather than import one of them, or a mix', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'two models');
    const first = await importModel(project.id, await keras2Sequential(), 'first.h5', {
      labels: 'red,blue',
      inputRange: '0,1',
    });
    const second = await importModel(project.id, await keras3Functional(), 'second.keras', { labels: 'blue,red' });
    expect([first.status, second.status]).toEqual([201, 201]);
    const entries: Record<string, Uint8Array> = {};
    for (const [folder, iteration] of [
      ['first', first.body.id],
      ['second', second.body.id],
    ]) {
      const zip = new Uint8Array((await download(project.id, iteration, 'tfjs').expect(200)).body as Buffer);
      for (const [name, bytes] of Object.entries(unzipSync(zip))) entries[`exports/${folder}/${name}`] = bytes;
    }
    const both = await importModel(project.id, zipSync(entries), 'exports.zip');
    expect({ status: both.status, code: both.body.code }).toEqual({ status: 400, code: 'INVALID_MODEL_ARCHIVE' });
    expect(both.body.message).toContain('exports/first/model.json');
    expect(both.body.message).toContain('exports/second/model.json');
    const iterations = await client.http
      .get(`/v1/projects/${project.id}/iterations`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(iterations.body.items).toHaveLength(2);
  }, 60_000);
});
