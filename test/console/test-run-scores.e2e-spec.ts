import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole } from '../support/browser.js';
import { BLUE, colouredSquares, RED } from '../support/generated-images.js';
import { modelZip, tinyClassifier } from '../support/tiny-models.js';

type LabelScores = { label: string; precision: number; recall: number; f1: number; ap: number; support: number };
type ClassificationScores = { accuracy: number; map: number; perLabel: LabelScores[] };

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/** A classifier's test run shows its AP per label and mAP, as the iteration page shows the validation ones. */
describe("console: a classifier's test run scores", () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'test-scorer');
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('lists the mAP of each run and, with its predictions, the AP of each label', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'colour scores');
    const imported = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    const runs = `/v1/projects/${project.id}/iterations/${imported.body.id}/test-runs`;
    const photos = [...(await colouredSquares(RED, 3, 71)), ...(await colouredSquares(BLUE, 3, 72))];
    let request = client.http.post(runs).set('Authorization', client.auth);
    photos.forEach((bytes, index) => (request = request.attach('images', bytes, `photo-${index}.png`)));
    const requested = await request
      .field(
        'labels',
        JSON.stringify(Object.fromEntries(photos.map((_, i) => [`photo-${i}.png`, i < 3 ? 'red' : 'blue']))),
      )
      .expect(202);
    let metrics: ClassificationScores | null = null;
    while (!metrics) {
      const run = await client.http.get(`${runs}/${requested.body.id}`).set('Authorization', client.auth).expect(200);
      expect(run.body.status).not.toMatch(/failed|cancelled/);
      metrics = run.body.metrics as ClassificationScores | null;
      if (!metrics) await new Promise((resolve) => setTimeout(resolve, 100));
    }

    await page.goto(`/projects/${project.id}/iterations/${imported.body.id}`);
    const list = page.getByRole('table', { name: 'Test runs' });
    await list.getByRole('button', { name: /^Show predictions/ }).waitFor();
    await expect(list.getByRole('columnheader').allTextContents()).resolves.toEqual([
      'Requested',
      'Images from',
      'Status',
      'Images',
      'Accuracy',
      'mAP',
      'Details',
    ]);
    await expect(list.getByRole('row').nth(1).getByRole('cell').nth(5).textContent()).resolves.toBe(
      percent(metrics.map),
    );
    await list.getByRole('button', { name: /^Show predictions/ }).click();
    const perLabel = page.getByRole('table', { name: 'Test metrics per label' });
    await perLabel.waitFor();
    const rows = await perLabel.getByRole('row').all();
    const shown = await Promise.all(rows.slice(1).map((row) => row.locator('th, td').allTextContents()));
    expect(shown).toEqual(
      metrics.perLabel.map((label) => [
        label.label,
        percent(label.precision),
        percent(label.recall),
        percent(label.f1),
        percent(label.ap),
        String(label.support),
      ]),
    );
    const summary = page.locator('dl.summary').filter({ hasText: 'mAP' });
    await expect(summary.locator('dd').allTextContents()).resolves.toEqual([
      percent(metrics.accuracy),
      percent(metrics.map),
    ]);
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems()).toEqual([]);
  }, 60_000);
});
