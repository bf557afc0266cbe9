import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole } from '../support/browser.js';
import { deployedTinyModel } from '../support/deployed-tiny-model.js';
import { colouredSquares, RED } from '../support/generated-images.js';

describe('console: stored predictions after their labels were renamed', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'renamer');
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('names each predicted label as it is called today', async () => {
    const { project, deployment } = await deployedTinyModel(client, ['red', 'blue'], 'colours');
    const store = await client.http
      .put(`/v1/projects/${project.id}/deployments/${deployment.id}/prediction-store`)
      .set('Authorization', client.auth)
      .send({ enabled: true });
    expect(store.status).toBe(200);
    const [photo] = await colouredSquares(RED, 1, 41);
    const answer = await client.http
      .post(`/v1/predict/${deployment.id}`)
      .set('X-Api-Key', deployment.apiKey)
      .set('Content-Type', 'image/png')
      .send(photo);
    expect(answer.status).toBe(200);
    for (const [name, renamed] of [
      ['red', 'crimson'],
      ['blue', 'navy'],
    ]) {
      const renaming = await client.http
        .patch(`/v1/projects/${project.id}/labels/${project.labels[name]}`)
        .set('Authorization', client.auth)
        .send({ name: renamed });
      expect(renaming.status).toBe(200);
    }

    await page.goto(`/projects/${project.id}/predictions`);
    const probabilities = page
      .getByRole('list', { name: 'Stored predictions' })
      .getByRole('list', { name: 'Probabilities' })
      .getByRole('listitem');
    await probabilities.first().waitFor();
    const names = (await probabilities.allTextContents()).map((text) => text.split(':')[0]).sort();
    expect(names).toEqual(['crimson', 'navy']);
  }, 60_000);
});
