import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strFromU8, unzipSync, Zip, ZipDeflate } from 'fflate';
import type { Response } from 'superagent';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const binary = (response: Response, callback: (error: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => callback(null, Buffer.concat(chunks)));
};

/** The zip's entries written again as a stream (as `zip -` does): sizes and CRCs in data descriptors after each entry. */
function rezipAsStream(zip: Uint8Array): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    const writer = new Zip((error, chunk, final) => {
      if (error) return reject(error);
      chunks.push(chunk);
      if (final) resolve(Buffer.concat(chunks));
    });
    for (const [name, bytes] of Object.entries(unzipSync(zip))) {
      const entry = new ZipDeflate(name, { level: 1 });
      writer.add(entry);
      entry.push(bytes, true);
    }
    writer.end();
  });
}

type TestRun = {
  status: string;
  predictions: { imageId: string | null; filename: string; predicted: string; confidence: number }[];
};

/** A project moved with a test run of its test split: the run's results must name the images of the copy. */
describe('project transfer of a test run on the test split, under a name in several scripts', () => {
  let testApp: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  const get = (path: string) => client.http.get(path).set('Authorization', client.auth).expect(200);

  async function finishedRun(path: string): Promise<TestRun> {
    for (;;) {
      const run = (await get(path)).body as TestRun;
      if (run.status !== 'requested' && run.status !== 'running') return run;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it("gives the imported test run's predictions the ids of the imported images, each on the same photo", async () => {
    const name = 'Pilzsorten 🍄 Ærø';
    const project = await client.createProject('classification', ['red', 'blue'], name);
    await client.upload(project.id, await colouredSquares(RED, 6, 1), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 6, 2), { label: 'blue' }, 'blue');
    await client.upload(project.id, await colouredSquares(RED, 2, 3), { label: 'red', split: 'test' }, 'test-red');
    await client.upload(project.id, await colouredSquares(BLUE, 2, 4), { label: 'blue', split: 'test' }, 'test-blue');
    const iteration = await client.waitForIteration(
      project.id,
      (
        await client.train(project.id, {
          imageSize: 16,
          epochs: 3,
          batchSize: 8,
          learningRate: 0.01,
          seed: 5,
          augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
        })
      ).id,
    );
    expect(iteration.status).toBe('completed');
    const runs = `/v1/projects/${project.id}/iterations/${iteration.id}/test-runs`;
    const requested = await client.http
      .post(runs)
      .set('Authorization', client.auth)
      .send({ split: 'test' })
      .expect(202);
    const source = await finishedRun(`${runs}/${requested.body.id}`);
    expect(source.status).toBe('completed');
    expect(source.predictions.every((prediction) => prediction.imageId !== null)).toBe(true);

    const archive = await client.http
      .post(`/v1/projects/${project.id}/export`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse(binary)
      .expect(200);
    // The file is named after the project in full (a browser reads filename*), in ASCII letters for older clients.
    const manifest = JSON.parse(strFromU8(unzipSync(archive.body as Buffer)['diyml-project.json'])) as {
      exportedAt: string;
    };
    const day = manifest.exportedAt.slice(0, 10);
    expect(archive.headers['content-disposition']).toBe(
      `attachment; filename="Pilzsorten-r-${day}.diyml.zip"; ` +
        `filename*=UTF-8''${encodeURIComponent(`${name}-${day}.diyml.zip`)}`,
    );
    const imported = await client.http
      .post('/v1/projects/import')
      .set('Authorization', client.auth)
      .attach('archive', archive.body as Buffer, 'project.diyml.zip')
      .expect(201);
    const copyId = imported.body.project.id as string;
    expect((await get(`/v1/projects/${copyId}`)).body.name).toBe(name);

    const copyImages = new Map(
      ((await get(`/v1/projects/${copyId}/images?limit=100`)).body.items as { id: string; filename: string }[]).map(
        (image) => [image.id, image.filename],
      ),
    );
    const [copyIteration] = (await get(`/v1/projects/${copyId}/iterations`)).body.items as { id: string }[];
    const copyRuns = `/v1/projects/${copyId}/iterations/${copyIteration.id}/test-runs`;
    const [copyRunId] = ((await get(copyRuns)).body.items as { id: string }[]).map((run) => run.id);
    const copy = (await get(`${copyRuns}/${copyRunId}`)).body as TestRun;
    expect(
      copy.predictions.map(({ filename, predicted, confidence }) => ({ filename, predicted, confidence })),
    ).toEqual(source.predictions.map(({ filename, predicted, confidence }) => ({ filename, predicted, confidence })));
    for (const prediction of copy.predictions) {
      expect(copyImages.get(prediction.imageId!)).toBe(prediction.filename);
    }

    // Under another name, sent in the form beside the archive.
    const renamed = await client.http
      .post('/v1/projects/import')
      .set('Authorization', client.auth)
      .attach('archive', archive.body as Buffer, 'project.diyml.zip')
      .field('name', 'Kopie – Ærø 🍄')
      .expect(201);
    expect(renamed.body.project.name).toBe('Kopie – Ærø 🍄');

    // Unzipped and zipped again by a tool that writes as a stream (sizes and CRCs after each entry): the same project.
    const restreamed = await client.http
      .post('/v1/projects/import')
      .set('Authorization', client.auth)
      .attach('archive', Buffer.from(await rezipAsStream(archive.body as Buffer)), 'project.diyml.zip')
      .expect(201);
    expect(restreamed.body.contents).toEqual(imported.body.contents);
  }, 90_000);
});
