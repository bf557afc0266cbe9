import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole } from '../support/browser.js';
import { RED, squareScenes } from '../support/generated-images.js';

/** A detection image is labeled by its boxes: the analysis counts images with and without boxes, not "unlabeled". */
describe('console: the words of a detection project', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'box-words');
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('counts the images with and without boxes on the analysis screen; a classification counts them labeled and unlabeled', async () => {
    const scenes = await squareScenes([RED], 3, 61);
    const detection = await client.createProject('detection', ['red'], 'boxes');
    const [boxed] = await client.upload(
      detection.id,
      scenes.map((scene) => scene.png),
      {},
      'scene',
    );
    await client.http
      .put(`/v1/projects/${detection.id}/images/${boxed.id}/regions`)
      .set('Authorization', client.auth)
      .send({ regions: scenes[0].boxes.map(({ x, y, width, height }) => ({ label: 'red', x, y, width, height })) })
      .expect(200);
    await page.goto(`/projects/${detection.id}/analysis`);
    const counts = page.getByText(/^3 images:/);
    await expect(counts.textContent()).resolves.toMatch(/^3 images: 1 with boxes, 2 without boxes, 0 excluded · /);

    const classification = await client.createProject('classification', ['red'], 'tags');
    await client.upload(classification.id, [scenes[0].png], { label: 'red' }, 'tagged');
    await client.upload(classification.id, [scenes[1].png], {}, 'untagged');
    await page.goto(`/projects/${classification.id}/analysis`);
    await expect(page.getByText(/^2 images:/).textContent()).resolves.toMatch(
      /^2 images: 1 labeled, 1 unlabeled, 0 excluded · /,
    );
    expect(harness.problems()).toEqual([]);
  }, 60_000);
});
