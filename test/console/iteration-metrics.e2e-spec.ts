import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { BLUE, colouredSquares, RED } from '../support/generated-images.js';

const FAST = {
  imageSize: 16,
  epochs: 4,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

describe('console: an iteration’s validation metrics', () => {
  let harness: ConsoleHarness;

  beforeAll(async () => {
    harness = await startConsole();
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('shows a classifier’s AP per label and mAP, explained, and every per-label column on a phone', async () => {
    const page = await harness.newPage();
    const client = await signUpWithClient(harness, page, 'metrics-reader');
    // Red and blue squares: every validation image ranks first for its own label, so each AP is 100% by hand.
    const project = await client.createProject('classification', ['red', 'blue']);
    for (const [label, colour, seed] of [
      ['red', RED, 1],
      ['blue', BLUE, 2],
    ] as const) {
      await client.upload(project.id, await colouredSquares(colour, 10, seed), { label, split: 'train' }, label);
      await client.upload(
        project.id,
        await colouredSquares(colour, 3, seed + 10),
        { label, split: 'validation' },
        `${label}-check`,
      );
    }
    await client.configureTraining(project.id, FAST);
    const iterationId = (await client.train(project.id)).id;
    expect((await client.waitForIteration(project.id, iterationId)).status).toBe('completed');

    await page.goto(`/projects/${project.id}/iterations/${iterationId}`);
    const perLabel = page.getByRole('table', { name: 'Metrics per label' });
    await perLabel.getByRole('columnheader', { name: 'AP', exact: true }).waitFor();
    const rows = perLabel.getByRole('row').filter({ has: page.getByRole('rowheader') });
    await expect(rows.allTextContents()).resolves.toEqual([
      expect.stringMatching(/^red(\d+\.\d%){3}100\.0%3Show$/),
      expect.stringMatching(/^blue(\d+\.\d%){3}100\.0%3Show$/),
    ]);
    const summary = page.locator('dl.summary');
    await expect(summary.getByRole('term').allTextContents()).resolves.toEqual([
      'Accuracy',
      'Precision',
      'Recall',
      'F1',
      'mAP',
    ]);
    await expect(summary.getByRole('definition').nth(4).textContent()).resolves.toBe('100.0%');
    await page.getByText('AP ranks the validation images by the label’s probability, whatever the threshold').waitFor();

    // On a phone each label is a card of named values: the right-hand columns are in sight, not past a scroll.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(
      `(() => { const table = document.querySelector('table[aria-label="Metrics per label"]');
        return document.documentElement.scrollWidth <= 390 && table.scrollWidth <= table.clientWidth; })()`,
      undefined,
      { timeout: 5000 },
    );
    for (const label of ['red', 'blue']) {
      const row = rows.filter({ has: page.getByRole('rowheader', { name: label }) });
      await row.getByRole('cell', { name: 'AP 100.0%' }).waitFor();
      await row.getByRole('cell', { name: 'Examples 3' }).waitFor();
      const show = row.getByRole('button', { name: `Show the validation images labeled ${label}` });
      await show.scrollIntoViewIfNeeded();
      const box = await show.boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'iteration-metrics-phone.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems()).toEqual([]);
  }, 180_000);
});
