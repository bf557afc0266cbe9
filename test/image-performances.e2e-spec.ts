import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const FAST = {
  imageSize: 16,
  epochs: 4,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

interface Performance {
  imageId: string;
  filename: string;
  expected: { labelId: string; label: string }[];
  predictions: { labelId: string; label: string; probability: number }[];
  predictedLabelId: string | null;
  correct: boolean | null;
}

describe('per-image validation results of an iteration', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  let iterationId: string;
  const validationImages = new Map<string, string>();

  const path = (suffix = '') => `/v1/projects/${project.id}/iterations/${iterationId}/image-performances${suffix}`;
  const get = (url: string, query: Record<string, unknown> = {}) =>
    client.http.get(url).query(query).set('Authorization', client.auth);

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    project = await client.createProject('classification', ['red', 'blue']);
    await client.upload(project.id, await colouredSquares(RED, 10, 1), { label: 'red', split: 'train' }, 'red-train');
    await client.upload(
      project.id,
      await colouredSquares(BLUE, 10, 2),
      { label: 'blue', split: 'train' },
      'blue-train',
    );
    for (const [label, colour, seed] of [
      ['red', RED, 3],
      ['blue', BLUE, 4],
    ] as const) {
      const uploaded = await client.upload(
        project.id,
        await colouredSquares(colour, 4, seed),
        { label, split: 'validation' },
        `${label}-check`,
      );
      for (const item of uploaded) validationImages.set(item.id!, label);
    }
    await client.configureTraining(project.id, FAST);
    iterationId = (await client.train(project.id)).id;
    expect((await client.waitForIteration(project.id, iterationId)).status).toBe('completed');
  }, 120_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('lists every validation image with its label and each label’s probability, most probable first', async () => {
    const response = await get(path(), { limit: 100 }).expect(200);
    const items = response.body.items as Performance[];
    expect(response.body.nextCursor).toBeNull();
    expect(items.map((item) => item.imageId).sort()).toEqual([...validationImages.keys()].sort());
    for (const item of items) {
      expect(item.expected).toEqual([
        { labelId: project.labels[validationImages.get(item.imageId)!], label: validationImages.get(item.imageId) },
      ]);
      expect(item.filename).toMatch(new RegExp(`^${validationImages.get(item.imageId)}-check-\\d\\.png$`));
      expect(item.predictions.map((prediction) => prediction.label).sort()).toEqual(['blue', 'red']);
      expect(item.predictions[0].probability).toBeGreaterThanOrEqual(item.predictions[1].probability);
      expect(item.predictedLabelId).toBe(item.predictions[0].labelId);
      expect(item.correct).toBe(item.predictedLabelId === item.expected[0].labelId);
    }
    const metrics = (await get(`/v1/projects/${project.id}/iterations/${iterationId}/metrics`).expect(200)).body;
    expect(items.filter((item) => item.correct).length / items.length).toBeCloseTo(metrics.accuracy, 5);
    expect((await get(path('/count')).expect(200)).body).toEqual({ count: 8 });
  });

  it('lists one confusion-matrix cell at a threshold, by label name or id, with counts that match the metrics', async () => {
    const metrics = (
      await get(`/v1/projects/${project.id}/iterations/${iterationId}/metrics`, { threshold: 0.6 }).expect(200)
    ).body;
    const { labels, matrix, noPrediction } = metrics.confusionMatrix as {
      labels: string[];
      matrix: number[][];
      noPrediction: number[];
    };
    for (const [row, expected] of labels.entries()) {
      for (const [column, predicted] of labels.entries()) {
        const cell = await get(path(), {
          label: expected,
          predicted: project.labels[predicted],
          threshold: 0.6,
        }).expect(200);
        expect(cell.body.items).toHaveLength(matrix[row][column]);
        expect(
          cell.body.items.every(
            (item: Performance) =>
              item.expected[0].label === expected && item.predictedLabelId === project.labels[predicted],
          ),
        ).toBe(true);
      }
      const unsure = await get(path('/count'), {
        label: project.labels[expected],
        predicted: 'none',
        threshold: 0.6,
      }).expect(200);
      expect(unsure.body.count).toBe(noPrediction[row]);
    }
    const reds = await get(path('/count'), { label: 'red' }).expect(200);
    expect(reds.body.count).toBe(4);
  });

  it('gives each label its AP, ranking the validation images by the label’s probability whatever the threshold', async () => {
    const items = (await get(path(), { limit: 100 }).expect(200)).body.items as Performance[];
    const probability = (item: Performance, label: string) =>
      item.predictions.find((prediction) => prediction.label === label)!.probability;
    // By hand: a label's AP is 100% when each of its images is more probable for it than every image of the other.
    const comesFirst = (label: string) =>
      Math.min(...items.filter((item) => item.expected[0].label === label).map((item) => probability(item, label))) >
      Math.max(...items.filter((item) => item.expected[0].label !== label).map((item) => probability(item, label)));
    expect([comesFirst('red'), comesFirst('blue')]).toEqual([true, true]);
    for (const threshold of [0, 0.99]) {
      const metrics = (
        await get(`/v1/projects/${project.id}/iterations/${iterationId}/metrics`, { threshold }).expect(200)
      ).body;
      expect(metrics.perLabel.map((label: { label: string; ap: number }) => [label.label, label.ap])).toEqual([
        ['red', 1],
        ['blue', 1],
      ]);
      expect(metrics.map).toBe(1);
    }
  });

  it('pages through the list with nextCursor, in the same order, without repeats', async () => {
    const all = (await get(path(), { limit: 100 }).expect(200)).body.items.map((item: Performance) => item.imageId);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await get(path(), { limit: 3, ...(cursor ? { cursor } : {}) }).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      paged.push(...page.body.items.map((item: Performance) => item.imageId));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(all);
  });

  it('refuses bad filters with 400 naming what to fix, and hides other users’ iterations', async () => {
    const unknown = await get(path(), { label: 'green' }).expect(400);
    expect(unknown.body).toMatchObject({ code: 'UNKNOWN_LABEL', details: [{ field: 'label' }] });
    expect(unknown.body.message).toContain('"red", "blue"');
    expect((await get(path('/count'), { predicted: 'purple' }).expect(400)).body.details).toEqual([
      expect.objectContaining({ field: 'predicted' }),
    ]);
    const threshold = await get(path(), { threshold: 2 }).expect(400);
    expect(threshold.body.details.map((detail: { field: string }) => detail.field)).toEqual(['threshold']);
    const redCursor = (await get(path(), { limit: 1, label: 'red' }).expect(200)).body.nextCursor;
    expect((await get(path(), { cursor: redCursor, label: 'blue' }).expect(400)).body.code).toBe('INVALID_CURSOR');
    expect((await get(path(), { cursor: 'nonsense' }).expect(400)).body.code).toBe('INVALID_CURSOR');

    const stranger = (await registerAndLogIn(testApp)).auth;
    const hidden = await client.http.get(path()).set('Authorization', stranger).expect(404);
    expect(hidden.body.code).toBe('PROJECT_NOT_FOUND');
    const missing = await get(`/v1/projects/${project.id}/iterations/${project.id}/image-performances`).expect(404);
    expect(missing.body.code).toBe('ITERATION_NOT_FOUND');
  });

  it('is documented in the OpenAPI document with its response schema and errors', async () => {
    const document = (await testApp.http.get('/docs-json').expect(200)).body;
    const list = document.paths['/v1/projects/{projectId}/iterations/{iterationId}/image-performances'].get;
    expect(list.responses['200'].content['application/json'].schema.$ref).toContain('ImagePerformancePageDto');
    expect(Object.keys(list.responses)).toEqual(expect.arrayContaining(['400', '401', '404', '409']));
    expect(list.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(
      expect.arrayContaining(['label', 'predicted', 'threshold', 'limit', 'cursor']),
    );
    const count = document.paths['/v1/projects/{projectId}/iterations/{iterationId}/image-performances/count'].get;
    expect(count.responses['200'].content['application/json'].schema.$ref).toContain('ImagePerformanceCountDto');
  });
});
