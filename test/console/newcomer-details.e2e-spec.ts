import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole } from '../support/browser.js';
import { BLUE, colouredSquares, RED, squareScenes } from '../support/generated-images.js';
import { drawBox } from './box-drawing.js';

/** Where this walk's screenshots go, at a laptop's and a phone's size. */
const SHOTS = '/tmp/console-5';
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 800 };

/**
 * What a newcomer from Custom Vision trips over: photos without boxes called "unlabeled", a box that crawls across
 * the photo 1 % a press, a test button the API refuses without a word before, and a list of runs that does not say
 * how long each trained.
 */
describe('console: details a newcomer from Custom Vision notices', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;
  const grid = () => page.getByRole('listbox', { name: 'Images' });
  const boxes = () => page.getByRole('list', { name: 'Boxes' }).getByRole('listitem');
  /** Both sizes' screenshots of the page as it is, `name`-phone.png and `name`-laptop.png. */
  const screenshots = async (name: string) => {
    for (const [size, viewport] of [
      ['phone', PHONE],
      ['laptop', LAPTOP],
    ] as const) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: join(SHOTS, `${name}-${size}.png`), fullPage: true });
    }
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    harness = await startConsole();
    page = await harness.newPage(LAPTOP);
    client = await signUpWithClient(harness, page, 'newcomer');
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('calls detection photos without boxes "no boxes", and moves a box 10 % a press with Alt', async () => {
    const project = await client.createProject('detection', ['red', 'blue'], 'squares');
    await client.upload(
      project.id,
      (await squareScenes([RED], 2, 7, 32)).map((scene) => scene.png),
      {},
      'scene',
    );
    await page.goto(`/projects/${project.id}/dataset`);
    await grid()
      .getByRole('option', { name: /^scene-1\.png, no boxes,/ })
      .waitFor();
    await expect(grid().locator('.cell-label').allTextContents()).resolves.toEqual(['no boxes', 'no boxes']);
    // Two photos make one row: the grid is as tall as that row, not a tall empty box under it.
    const gridHeight = (await grid().boundingBox())!.height;
    expect(gridHeight).toBeGreaterThanOrEqual(150);
    expect(gridHeight).toBeLessThan(2 * 150);
    await screenshots('dataset-no-boxes');

    await grid()
      .getByRole('option', { name: /^scene-0\.png,/ })
      .dblclick();
    await page.getByRole('heading', { name: 'scene-0.png' }).waitFor();
    await expect(page.locator('.box-editor .hint').textContent()).resolves.toContain(
      // A space that does not break: "10" and "%" stay on one line.
      'arrows move it by 1\u00a0% of the photo, Shift+arrows resize it, both with Alt by 10\u00a0%',
    );
    await drawBox(page, { x: 0.1, y: 0.1, width: 0.2, height: 0.2 });
    await boxes().first().getByRole('button').click();
    const address = page.url();
    await page.keyboard.press('Alt+ArrowRight');
    await page.keyboard.press('Alt+ArrowDown');
    await page.keyboard.press('Alt+Shift+ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect(boxes().first().textContent()).resolves.toBe('red at 21%, 20% · 30×20%');
    // Alt+Left, the browser's Back elsewhere, moves the box and stays on the photo.
    await page.keyboard.press('Alt+ArrowLeft');
    await expect(boxes().first().textContent()).resolves.toBe('red at 11%, 20% · 30×20%');
    expect(page.url()).toBe(address);
    await page.getByRole('heading', { name: 'scene-0.png' }).waitFor();
    await screenshots('box-editor-alt');

    await page.getByRole('button', { name: 'Save boxes and go to the next image' }).click();
    await page.getByRole('heading', { name: 'scene-1.png' }).waitFor();
    // The filter reads as the captions do: only the photo still without boxes.
    await page.goto(`/projects/${project.id}/dataset`);
    await grid()
      .getByRole('option', { name: /^scene-0\.png, 1 box: red,/ })
      .waitFor();
    await page.getByRole('group', { name: 'Filter images' }).getByLabel('Show').selectOption({ label: 'No boxes' });
    await page.waitForFunction(`new URLSearchParams(location.search).get('show') === 'unlabeled'`);
    await grid().getByRole('option', { name: 'scene-1.png, no boxes, train' }).waitFor();
    await expect(grid().getByRole('option').count()).resolves.toBe(1);
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('shows how long each iteration trained, and why Test on the test split cannot run before it is clicked', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'colours');
    await client.upload(project.id, await colouredSquares(RED, 6, 1), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 6, 2), { label: 'blue' }, 'blue');
    const queued = await client.train(project.id, { imageSize: 16, epochs: 2, batchSize: 4, seed: 3 });
    const trained = await client.waitForIteration(project.id, queued.id, 120_000);
    expect(trained.status).toBe('completed');

    await page.goto(`/projects/${project.id}/train`);
    const iterations = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Queued' }) });
    await iterations.getByRole('cell', { name: 'completed' }).waitFor();
    await expect(iterations.getByRole('columnheader').allTextContents()).resolves.toContain('Training time');
    const row = iterations.getByRole('row').filter({ has: page.getByRole('link', { name: trained.name }) });
    await expect(row.getByRole('cell').last().textContent()).resolves.toMatch(/^(under 1 s|\d+ s|\d+ min( \d+ s)?)$/);
    await screenshots('iterations-training-time');

    // No photo in the test split: said beside the button before it is clicked, with how to put some there.
    await page.goto(`/projects/${project.id}/iterations/${queued.id}`);
    const testSplit = page.getByRole('button', { name: 'Test on the test split' });
    const reason = page.locator('#no-test-images');
    await reason.waitFor();
    await expect(testSplit.getAttribute('aria-describedby')).resolves.toBe('no-test-images');
    await expect(reason.textContent()).resolves.toMatch(/^No labeled photo with a label of this iteration is in the/);
    await expect(reason.getByRole('link', { name: 'Dataset' }).getAttribute('href')).resolves.toBe(
      `/projects/${project.id}/dataset`,
    );
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    await screenshots('test-split-empty');
    // Clicked all the same, the API's refusal is that same reason, now as an alert.
    await testSplit.click();
    await page.getByRole('alert').filter({ hasText: 'in the test split yet' }).waitFor();
    await expect(page.locator('#no-test-images').count()).resolves.toBe(1);

    // A labeled photo in the test split: no reason left, and the test runs.
    await client.upload(project.id, await colouredSquares(RED, 1, 9), { label: 'red', split: 'test' }, 'held-out');
    const counted = page.waitForResponse((response) => response.url().includes('split=test') && response.ok());
    await page.reload();
    await counted;
    await testSplit.click();
    await page.getByRole('table', { name: 'Test runs' }).getByRole('cell', { name: 'the test split' }).waitFor();
    // Counted before the run was asked for, the split holds a photo: no reason beside the button.
    await expect(reason.count()).resolves.toBe(0);
    await expect(testSplit.getAttribute('aria-describedby')).resolves.toBeNull();
    expect(harness.problems([/status of 422/])).toEqual([]);
  }, 180_000);
});
