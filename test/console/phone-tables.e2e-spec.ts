import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { BLUE, colouredSquares, RED } from '../support/generated-images.js';

const FAST = {
  imageSize: 16,
  epochs: 2,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

/** Whether the element is whole within the screen's width, with nothing of it to scroll sideways to. */
const fitsTheScreen = (locator: Locator) =>
  locator.evaluate(
    (element) =>
      element.scrollWidth <= element.clientWidth &&
      element.getBoundingClientRect().right <= element.ownerDocument.documentElement.clientWidth,
  );

/** The tops of the elements, rounded: the same top for values side by side on one line. */
const tops = (locators: Locator[]) =>
  Promise.all(locators.map(async (locator) => Math.round((await locator.boundingBox())!.y)));

// On a phone (390 px wide) the iterations, the test runs and the API tokens are a card each: its name, then its
// status and scores on one line, then the rest, every value named, where a table scrolled sideways and hid the scores
// (or the Revoke button) past the edge.
describe('console: the wide tables on a phone', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let projectId: string;
  let iterationId: string;

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage({ width: 390, height: 844 });
    const client = await signUpWithClient(harness, page, 'phone-reader');
    const project = await client.createProject('classification', ['Hemlock', 'Japanese Cherry'], 'trees on a phone');
    for (const [label, colour, seed] of [
      ['Hemlock', RED, 1],
      ['Japanese Cherry', BLUE, 2],
    ] as const) {
      await client.upload(project.id, await colouredSquares(colour, 6, seed), { label, split: 'train' }, label);
      for (const split of ['validation', 'test'])
        await client.upload(
          project.id,
          await colouredSquares(colour, 2, seed + split.length),
          { label, split },
          `${label}-${split}`,
        );
    }
    await client.configureTraining(project.id, FAST);
    iterationId = (await client.train(project.id)).id;
    expect((await client.waitForIteration(project.id, iterationId)).status).toBe('completed');
    projectId = project.id;
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it("shows each iteration's status and scores side by side under its name, within the screen", async () => {
    await page.goto(`/projects/${projectId}/train`);
    const iterations = page.getByRole('table', { name: 'Iterations' });
    const row = iterations.getByRole('row').filter({ has: page.getByRole('link', { name: 'Iteration 1' }) });
    const status = row.getByRole('cell', { name: 'Status completed' });
    await status.waitFor();
    const scores = ['Precision', 'Recall', 'Accuracy'].map((name) =>
      row.getByRole('cell', { name: new RegExp(`^${name} \\d+\\.\\d%$`) }),
    );
    await scores[2].waitFor();
    await expect(fitsTheScreen(iterations)).resolves.toBe(true);
    await expect(fitsTheScreen(row)).resolves.toBe(true);
    for (const name of [/^Model type /, /^Images \d+$/, /^Queued /, /^Training time /])
      await row.getByRole('cell', { name }).waitFor();
    // The name, then one line with the status and the three scores (as a wide screen's columns show them), then the
    // rest, each named as well. Measured together, again while the page above the table is still filling in.
    const name = row.getByRole('link', { name: 'Iteration 1' });
    const modelType = row.getByRole('cell', { name: /^Model type / });
    await expect
      .poll(async () => {
        const [nameTop, statusTop, modelTypeTop, ...scoreTops] = await tops([name, status, modelType, ...scores]);
        return {
          nameAbove: nameTop < statusTop,
          scoresOnTheStatusLine: scoreTops.every((top) => top === statusTop),
          restBelow: modelTypeTop > statusTop,
        };
      })
      .toEqual({ nameAbove: true, scoresOnTheStatusLine: true, restBelow: true });
    await expect(page.evaluate('document.documentElement.scrollWidth')).resolves.toBe(390);
    await page.screenshot({ path: join(SCREENSHOTS, 'phone-iterations.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('shows a test run as a card, its button within the screen, and the confusion matrix whole', async () => {
    await page.goto(`/projects/${projectId}/iterations/${iterationId}`);
    await page.getByRole('button', { name: 'Test on the test split' }).click();
    const runs = page.getByRole('table', { name: 'Test runs' });
    const show = runs.getByRole('button', { name: /^Show predictions/ });
    await show.waitFor({ timeout: 60_000 });
    const run = runs.getByRole('row').filter({ has: page.getByRole('button', { name: /^Show predictions/ }) });
    const status = run.getByRole('cell', { name: 'Status completed' });
    const scores = ['Accuracy', 'mAP'].map((name) =>
      run.getByRole('cell', { name: new RegExp(`^${name} \\d+\\.\\d%$`) }),
    );
    await run.getByRole('cell', { name: 'Images from the test split' }).waitFor();
    await run.getByRole('cell', { name: 'Images 4' }).waitFor();
    await expect(fitsTheScreen(runs)).resolves.toBe(true);
    await expect
      .poll(async () => {
        const [statusTop, ...scoreTops] = await tops([status, ...scores]);
        return scoreTops.every((top) => top === statusTop);
      })
      .toBe(true);
    await expect(fitsTheScreen(show)).resolves.toBe(true);
    // The run just requested opens by itself: its predictions and scores follow the card.
    await expect(show.getAttribute('aria-pressed')).resolves.toBe('true');
    await page.getByRole('table', { name: 'Test metrics per label' }).waitFor();

    // Two labels (one of two words) and "below threshold": narrower cells keep the matrix within the screen.
    const matrix = page.getByRole('table', { name: /^Confusion matrix/ });
    await expect(fitsTheScreen(matrix)).resolves.toBe(true);
    await expect(page.evaluate('document.documentElement.scrollWidth')).resolves.toBe(390);
    await page.screenshot({ path: join(SCREENSHOTS, 'phone-test-runs.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems()).toEqual([]);
  }, 90_000);
  it('shows each API token as a card whose Revoke button is within the screen', async () => {
    await page.goto('/tokens');
    await page.getByLabel('Token name').fill('ci pipeline token');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('button', { name: 'I have saved it' }).click();
    const tokens = page.getByRole('table', { name: 'Tokens' });
    const row = tokens.getByRole('row').filter({ hasText: 'ci pipeline token' });
    await row.getByRole('cell', { name: /^Starts with dml_/ }).waitFor();
    await row.getByRole('cell', { name: /^Created / }).waitFor();
    const revoke = row.getByRole('button', { name: 'Revoke ci pipeline token' });
    await expect(fitsTheScreen(tokens)).resolves.toBe(true);
    await expect(fitsTheScreen(revoke)).resolves.toBe(true);
    await revoke.click();
    await row.getByRole('cell', { name: 'State revoked' }).waitFor();
    await expect(page.evaluate('document.documentElement.scrollWidth')).resolves.toBe(390);
    await page.screenshot({ path: join(SCREENSHOTS, 'phone-tokens.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems()).toEqual([]);
  });
});
