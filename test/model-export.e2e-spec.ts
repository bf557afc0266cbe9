import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { iou, prepareImage, type Box, type InputSpec } from '@diyml/ml';
import { ModelProto } from '@diyml/ml';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED, squareScenes } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const FAST = {
  imageSize: 16,
  epochs: 10,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

type Prediction = { label: string; probability: number; box?: Box };

interface ExportedModel {
  session: ort.InferenceSession;
  labels: string[];
  spec: InputSpec;
  description: string;
}

type Iteration = Awaited<ReturnType<ApiClient['waitForIteration']>>;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

describe('model export as ONNX over HTTP', () => {
  let testApp: TestApp;
  let client: ApiClient;
  const sessions: ort.InferenceSession[] = [];

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  });
  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.release()));
    await testApp.destroy();
  });

  const download = (projectId: string, iterationId: string, format: string) =>
    client.http
      .get(`/v1/projects/${projectId}/iterations/${iterationId}/model?format=${format}`)
      .set('Authorization', client.auth)
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      });

  /** Downloads the ONNX file and opens it with onnxruntime-node, reading labels and input spec from its metadata. */
  async function exported(projectId: string, iterationId: string): Promise<ExportedModel> {
    const response = await download(projectId, iterationId, 'onnx');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers['content-disposition']).toMatch(/filename="iteration-\d+-model\.onnx"/);
    const bytes = new Uint8Array(response.body as Buffer);
    const session = await ort.InferenceSession.create(bytes);
    sessions.push(session);
    // onnxruntime-node does not expose metadata_props: read them from the protobuf, as any ONNX tool would.
    const file = ModelProto.toObject(ModelProto.decode(bytes)) as {
      docString: string;
      metadataProps: { key: string; value: string }[];
    };
    const diyml = JSON.parse(file.metadataProps.find((entry) => entry.key === 'diyml')!.value);
    expect(JSON.parse(file.metadataProps.find((entry) => entry.key === 'labels')!.value)).toEqual(diyml.labels);
    return { session, labels: diyml.labels, spec: diyml, description: file.docString };
  }

  /** Runs one image through the exported model, prepared as its doc_string says: fitted, then 0–255 mapped to the input range. */
  async function runExported(
    model: ExportedModel,
    image: Buffer,
  ): Promise<{
    output: Float32Array;
    dims: readonly number[];
    transform: Awaited<ReturnType<typeof prepareImage>>['transform'];
  }> {
    const prepared = await prepareImage(image, model.spec);
    const [low, high] = model.spec.inputRange;
    const input = Float32Array.from(prepared.pixels, (value) => low + (value * (high - low)) / 255);
    const { width, height } = model.spec.imageSize;
    const results = await model.session.run({
      image: new ort.Tensor('float32', input, [1, height, width, model.spec.channels]),
    });
    const output = results[model.session.outputNames[0]];
    return { output: output.data as Float32Array, dims: output.dims, transform: prepared.transform };
  }

  async function deployedPredictions(
    projectId: string,
    iterationId: string,
    images: Buffer[],
  ): Promise<Prediction[][]> {
    const deployment = await client.http
      .post(`/v1/projects/${projectId}/deployments`)
      .set('Authorization', client.auth)
      .send({ iterationId })
      .expect(201);
    return Promise.all(
      images.map(async (image) => {
        const response = await client.http
          .post(`/v1/predict/${deployment.body.id}`)
          .set('X-Api-Key', deployment.body.apiKey)
          .set('Content-Type', 'image/png')
          .send(image)
          .expect(200);
        return response.body.predictions as Prediction[];
      }),
    );
  }

  /** A small-cnn classifier, exported by the first test and the last (a training fewer). */
  let classifier: Promise<{ project: { id: string }; base: Iteration }> | undefined;
  const trainedClassifier = () =>
    (classifier ??= (async () => {
      const project = await client.createProject('classification', ['red', 'blue']);
      await client.upload(project.id, await colouredSquares(RED, 12, 1), { label: 'red' }, 'red');
      await client.upload(project.id, await colouredSquares(BLUE, 12, 2), { label: 'blue' }, 'blue');
      return { project, base: await client.waitForIteration(project.id, (await client.train(project.id, FAST)).id) };
    })());

  it('exports classifiers (small-cnn and a transfer model on it) that predict what diyml predicts', async () => {
    const { project, base } = await trainedClassifier();
    expect(base.status).toBe('completed');
    const transfer = await client.waitForIteration(
      project.id,
      (
        await client.train(project.id, {
          architecture: 'transfer',
          baseIterationId: base.id,
          epochs: 10,
          batchSize: 8,
          learningRate: 0.05,
          seed: 3,
        })
      ).id,
    );
    expect(transfer.status).toBe('completed');
    const unseen = [...(await colouredSquares(RED, 3, 101)), ...(await colouredSquares(BLUE, 3, 102))];

    for (const iteration of [base, transfer]) {
      const model = await exported(project.id, iteration.id);
      expect(model.labels).toEqual(['red', 'blue']);
      expect(model.description).toContain('softmax probabilities in the order of the labels');
      const expected = await deployedPredictions(project.id, iteration.id, unseen);
      for (const [index, image] of unseen.entries()) {
        const { output } = await runExported(model, image);
        const top = output.indexOf(Math.max(...output));
        expect(model.labels[top]).toBe(expected[index][0].label);
        for (const prediction of expected[index])
          expect(output[model.labels.indexOf(prediction.label)]).toBeCloseTo(prediction.probability, 4);
      }
    }
  }, 120_000);

  it('exports a detector whose raw grid, decoded as its doc_string says, gives the top box diyml gives', async () => {
    const project = await client.createProject('detection', ['red', 'blue']);
    const scenes = await squareScenes([RED, BLUE], 60, 11);
    const items = await client.upload(
      project.id,
      scenes.map((scene) => scene.png),
      {},
      'scene',
    );
    const names = ['red', 'blue'];
    await client.http
      .post(`/v1/projects/${project.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({
        items: items.map((item, index) => ({
          imageId: item.id,
          regions: scenes[index].boxes.map((box) => ({
            label: names[box.label],
            x: box.x,
            y: box.y,
            width: box.width,
            height: box.height,
          })),
        })),
      })
      .expect((response) => expect(response.status).toBeLessThan(300));
    const queued = await client.train(project.id, {
      architecture: 'tiny-detector',
      imageSize: 32,
      epochs: 12,
      batchSize: 8,
      learningRate: 0.005,
      seed: 3,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
    });
    expect((await client.waitForIteration(project.id, queued.id, 120_000)).status).toBe('completed');

    const model = await exported(project.id, queued.id);
    expect(model.description).toContain('raw grid head');
    const unseen = (await squareScenes([RED, BLUE], 6, 99)).map((scene) => scene.png);
    const expected = await deployedPredictions(project.id, queued.id, unseen);
    let compared = 0;
    for (const [index, image] of unseen.entries()) {
      const { output, dims, transform } = await runExported(model, image);
      const [, rows, columns, depth] = dims;
      // The best cell, decoded as the doc_string describes (the best box always survives non-maximum suppression).
      let best = { probability: -1, label: 0, box: { x: 0, y: 0, width: 0, height: 0 } };
      for (let row = 0; row < rows; row++) {
        for (let column = 0; column < columns; column++) {
          const cell = output.subarray((row * columns + column) * depth, (row * columns + column + 1) * depth);
          const scores = Array.from(cell.subarray(5));
          const label = scores.indexOf(Math.max(...scores));
          const softmax = 1 / scores.reduce((sum, score) => sum + Math.exp(score - scores[label]), 0);
          const probability = sigmoid(cell[0]) * softmax;
          if (probability <= best.probability) continue;
          const [centreX, centreY] = [(column + sigmoid(cell[1])) / columns, (row + sigmoid(cell[2])) / rows];
          const [width, height] = [sigmoid(cell[3]), sigmoid(cell[4])];
          const left = Math.max(0, centreX - width / 2);
          const top = Math.max(0, centreY - height / 2);
          best = {
            probability,
            label,
            box: {
              x: left,
              y: top,
              width: Math.min(1, centreX + width / 2) - left,
              height: Math.min(1, centreY + height / 2) - top,
            },
          };
        }
      }
      if (expected[index].length === 0) {
        expect(best.probability).toBeLessThan(0.25);
        continue;
      }
      const top = expected[index][0];
      expect(model.labels[best.label]).toBe(top.label);
      expect(best.probability).toBeCloseTo(top.probability, 4);
      // The scenes are square and so is the input: the letterbox maps fractions unchanged.
      expect(transform.offsetX + transform.offsetY).toBe(0);
      expect(iou(best.box, top.box!)).toBeGreaterThanOrEqual(0.9);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('keeps the TensorFlow.js zip as the default and refuses an unknown format', async () => {
    const { project, base: iteration } = await trainedClassifier();
    const zip = await client.http
      .get(`/v1/projects/${project.id}/iterations/${iteration.id}/model`)
      .set('Authorization', client.auth)
      .buffer(true);
    expect(zip.status).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    const unknown = await client.http
      .get(`/v1/projects/${project.id}/iterations/${iteration.id}/model?format=keras`)
      .set('Authorization', client.auth);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'format', errors: ['format must be one of tfjs, onnx'] }],
    });
  }, 60_000);
});
