import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConsoleHarness, startConsole, signUp, SCREENSHOTS } from '../support/browser.js';
import { chartsCutAtTheLeftEdge } from './chart-edges.js';

const SAMPLES = fileURLToPath(new URL('../fixtures/trees', import.meta.url));

function photos(folder: string) {
  return readdirSync(join(SAMPLES, folder))
    .sort()
    .map((name) => ({ name, mimeType: 'image/jpeg', buffer: readFileSync(join(SAMPLES, folder, name)) }));
}

describe('console: a classification project from upload to a deployed prediction', () => {
  let harness: ConsoleHarness;

  beforeAll(async () => {
    harness = await startConsole();
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('uploads 20 photos and a zip, labels by keyboard, relabels a batch, trains, shows metrics, deploys and predicts; accessible, and readable on a phone', async () => {
    const hemlock = photos('Hemlock');
    const cherry = photos('Japanese Cherry');
    const page = await harness.newPage();
    await signUp(page, 'botanist');
    await page.getByLabel('Project name').fill('Trees');
    await page.getByRole('button', { name: 'Create project' }).click();
    for (const label of ['Hemlock', 'Japanese Cherry']) {
      await page.getByLabel('New label').fill(label);
      await page.getByRole('button', { name: 'Add label' }).click();
      await page.getByRole('button', { name: `Remove label ${label}` }).waitFor();
    }

    const upload = page.getByLabel('Images or zip archives to upload');
    const broken = { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a photo at all') };
    await upload.setInputFiles([broken, ...hemlock, ...cherry]);
    await page.getByRole('status').filter({ hasText: '20 uploaded, 1 rejected' }).waitFor();
    await expect(page.getByRole('list', { name: 'Files that were not uploaded' }).textContent()).resolves.toMatch(
      /^notes\.jpg: ./,
    );
    const archive = zipSync({ 'Hemlock/hemlock_test.jpg': readFileSync(join(SAMPLES, 'test', 'hemlock_test.jpg')) });
    await upload.setInputFiles({ name: 'more.zip', mimeType: 'application/zip', buffer: Buffer.from(archive) });
    await page.getByRole('status').filter({ hasText: '1 uploaded.' }).waitFor();
    const grid = page.getByRole('listbox', { name: 'Images' });
    await grid.getByRole('option').nth(20).waitFor();

    // Keyboard labeling: 1 on each hemlock, the arrow past everything else.
    await grid.focus();
    for (let step = 0; step < 21; step += 1) {
      const active = await grid.getAttribute('aria-activedescendant');
      const description = (await page.locator(`[id="${active}"]`).getAttribute('aria-label')) ?? '';
      if (/^hemlock_\d+\.jpg, unlabeled/.test(description)) await page.keyboard.press('1');
      else await page.keyboard.press('ArrowRight');
    }
    await grid.getByRole('option', { name: /^hemlock_10\.jpg, Hemlock/ }).waitFor();
    const show = page.getByLabel('Show');
    await show.selectOption({ label: 'Hemlock (11)' });
    await grid.getByRole('option').nth(10).waitFor();
    await expect(grid.getByRole('option', { name: /unlabeled/ }).count()).resolves.toBe(0);

    // Batch relabel: every unlabeled photo at once.
    await show.selectOption('unlabeled');
    await grid.getByRole('option').nth(9).waitFor();
    await page.getByRole('button', { name: 'Select all' }).click();
    await page.getByRole('status').filter({ hasText: '10 selected' }).waitFor();
    await page.getByLabel('Label selected as').selectOption({ label: 'Japanese Cherry' });
    // The grid's count (a label chip says its own count the same way).
    await page.getByRole('toolbar', { name: 'Selected images' }).getByText('0 images', { exact: true }).waitFor();
    await show.selectOption({ label: 'Japanese Cherry (10)' });
    await grid.getByRole('option').nth(9).waitFor();

    // One photo out of training, by selection.
    await grid
      .getByRole('option')
      .first()
      .click({ modifiers: ['Control'] });
    await page.getByRole('button', { name: 'Exclude from training' }).click();
    await show.selectOption('excluded');
    await grid.getByRole('option', { name: /excluded/ }).waitFor();
    await show.selectOption('');
    await grid.getByRole('option').nth(20).waitFor();
    // Two photos kept apart for a test run.
    await grid.getByRole('option', { name: /^hemlock_1\.jpg/ }).click({ modifiers: ['Control'] });
    await grid.getByRole('option', { name: /^japanese_cherry_2\.jpg/ }).click({ modifiers: ['Control'] });
    await page.getByLabel('Move to split').selectOption('test');
    await grid.getByRole('option', { name: /^japanese_cherry_2\.jpg, Japanese Cherry, test/ }).waitFor();
    await grid.getByRole('option', { name: /^hemlock_1\.jpg, Hemlock, test/ }).waitFor();
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await page.screenshot({ path: join(SCREENSHOTS, 'labeling.png') });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'Analysis' }).click();
    await page.getByRole('heading', { name: 'Ready to train' }).waitFor();
    const balance = page.getByRole('list', { name: 'Images per label' });
    await expect(
      balance.getByRole('meter').evaluateAll((meters) => meters.map((meter) => meter.getAttribute('aria-label'))),
    ).resolves.toEqual(['Hemlock: 11 images', 'Japanese Cherry: 10 images']);
    await balance.getByRole('link', { name: 'Japanese Cherry' }).click();
    await grid.getByRole('option').nth(9).waitFor();
    await expect(grid.getByRole('option').count()).resolves.toBe(10);

    await page.getByRole('link', { name: 'Train' }).click();
    const form = page.getByRole('form', { name: 'Training configuration' });
    // Automatic trains these photos (21, one excluded) on the backbone, whose input size applies: no image size to
    // type, but that one.
    await form
      .getByText(
        /^Automatic will train: Pretrained backbone with a new classifier \(photos\), chosen from the 20 included images: photos \(median shorter side \d+ px ≥ \d+\)\./,
      )
      .waitFor();
    await form.getByText(/^Set by the backbone: .+ sees photos at \d+ × \d+ pixels\.$/).waitFor();
    await expect(form.getByLabel(/Image size/).count()).resolves.toBe(0);
    await form.getByLabel('Epochs').fill('8');
    await form.getByText('Advanced settings').click();
    await form.getByLabel('Batch size').fill('8');
    await form.getByLabel('Learning rate').fill('0.01');
    await form.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('cell', { name: 'completed' }).waitFor({ timeout: 120_000 });
    // The list scores each iteration at the threshold its page opens with, Custom Vision's 50%, so both agree.
    await page.getByText('Scores on the validation images at a 50% probability threshold').waitFor();
    const listed = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Iteration 1' }) });
    await listed
      .getByRole('cell', { name: /^\d+\.\d%$/ })
      .first()
      .waitFor();
    const [listedPrecision, listedRecall] = (await listed.getByRole('cell').allTextContents()).slice(4, 6);
    const opened = page.waitForResponse(
      (response) => response.url().includes('/metrics?threshold=0.5') && response.ok(),
    );
    await page.getByRole('link', { name: 'Iteration 1' }).click();
    await opened;
    const matrix = page.getByRole('table', { name: /Confusion matrix/ });
    await matrix.waitFor();
    await page.getByText('Probability threshold: 50%').waitFor();
    await page.getByText('A label counts as predicted only from this probability').waitFor();
    const summary = page.locator('dl.summary');
    await expect(summary.getByRole('definition').nth(1).textContent()).resolves.toBe(listedPrecision);
    await expect(summary.getByRole('definition').nth(2).textContent()).resolves.toBe(listedRecall);
    await expect(matrix.getByRole('rowheader').allTextContents()).resolves.toEqual(['Hemlock', 'Japanese Cherry']);
    // Each axis as wide as its values: none cut off at the chart's edge.
    await page.getByRole('img', { name: 'Accuracy chart' }).locator('canvas').waitFor();
    await expect(chartsCutAtTheLeftEdge(page)).resolves.toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'metrics.png'), fullPage: true });
    const rereads = page.waitForResponse(
      (response) => response.url().includes('/metrics?threshold=0.9') && response.ok(),
    );
    await page.getByLabel(/Probability threshold/).fill('0.9');
    await rereads;
    await page.getByText('Probability threshold: 90%').waitFor();
    await page.getByRole('button', { name: 'Test on the test split' }).click();
    const testRun = page.getByRole('list', { name: 'Test predictions' });
    await testRun.getByRole('listitem').nth(1).waitFor({ timeout: 60_000 });
    await expect(testRun.getByRole('listitem').allTextContents()).resolves.toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^hemlock_1\.jpgexpected Hemlock, predicted /),
        expect.stringMatching(/^japanese_cherry_2\.jpgexpected Japanese Cherry/),
      ]),
    );

    // A confusion-matrix cell lists its validation images; the precision/recall curve is drawn from them.
    const cell = matrix.getByRole('button', { name: /^\d+ images? of Hemlock predicted as Hemlock: show them$/ });
    const cellCount = Number(await cell.textContent());
    await cell.click();
    const cellImages = page.getByRole('region', { name: 'Validation images: Hemlock predicted as Hemlock' });
    await cellImages
      .getByRole('heading', { name: `Hemlock predicted as Hemlock: ${cellCount} image${cellCount === 1 ? '' : 's'}` })
      .waitFor();
    await expect(cellImages.getByRole('listitem').count()).resolves.toBe(cellCount);
    await expect(cellImages.getByRole('listitem').allTextContents()).resolves.toEqual(
      Array(cellCount).fill(expect.stringMatching(/^hemlock_\d+\.jpgHemlock → Hemlock \(\d+%\)$/)),
    );
    await page.getByRole('img', { name: 'Precision / recall per label chart' }).waitFor();
    await cellImages.getByRole('button', { name: 'Close' }).click();

    // A labeled test set from this computer: the same file under two labels is refused, the choice kept.
    const testSet = page.getByRole('form', { name: 'Test on labeled photos' });
    const heldOut = {
      name: 'hemlock_test.jpg',
      mimeType: 'image/jpeg',
      buffer: readFileSync(join(SAMPLES, 'test', 'hemlock_test.jpg')),
    };
    // A zip of photos is not a test set: said before anything is sent.
    await testSet
      .getByLabel('Photos of “Hemlock”')
      .setInputFiles({ name: 'held-out.zip', mimeType: 'application/zip', buffer: Buffer.from(archive) });
    await testSet.getByRole('button', { name: 'Test on 1 photo' }).click();
    await testSet
      .getByRole('alert')
      .filter({ hasText: 'held-out.zip is a zip: a test set is sent as photos. Unzip it, then choose its photos.' })
      .waitFor();
    await testSet.getByLabel('Photos of “Hemlock”').setInputFiles(heldOut);
    await testSet.getByLabel('Photos of “Japanese Cherry”').setInputFiles(heldOut);
    await testSet.getByRole('button', { name: 'Test on 2 photos' }).click();
    await testSet.getByRole('alert').filter({ hasText: 'hemlock_test.jpg was chosen twice' }).waitFor();
    await testSet.getByLabel('Photos of “Japanese Cherry”').setInputFiles(cherry[3]);
    await testSet.getByRole('button', { name: 'Test on 2 photos' }).click();
    await testRun.getByText(/^hemlock_test\.jpg/).waitFor({ timeout: 60_000 });
    await expect(testRun.getByRole('listitem').allTextContents()).resolves.toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^hemlock_test\.jpgexpected Hemlock, predicted /),
        expect.stringMatching(new RegExp(`^${cherry[3].name}expected Japanese Cherry`)),
      ]),
    );
    await expect(page.getByRole('table', { name: 'Test runs' }).getByRole('row').count()).resolves.toBe(3);
    await testSet.getByRole('button', { name: 'Test on 0 photos' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'metrics-tools.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    for (const width of [390]) {
      await page.setViewportSize({ width, height: 844 });
      for (const tab of ['Dataset', 'Train', 'History']) {
        await page.getByRole('link', { name: tab }).click();
        await page.waitForLoadState('networkidle');
        // A raw event's JSON scrolls in its own box, never the page.
        if (tab === 'History') await page.getByText('Raw event', { exact: true }).first().click();
        await page.waitForFunction(`document.documentElement.scrollWidth <= ${width}`, undefined, { timeout: 5000 });
      }
      await page.goBack();
      await page.goBack();
      // The image grid's columns share its whole width: no unused strip at its right on a phone.
      await grid.getByRole('option').first().waitFor();
      await expect(
        grid.evaluate((element) => {
          const cells = [...element.querySelectorAll('[role="option"]')].map((cell) => cell.getBoundingClientRect());
          return (
            element.getBoundingClientRect().left +
            element.clientLeft +
            element.clientWidth -
            Math.max(...cells.map((cell) => cell.right))
          );
        }),
      ).resolves.toBeLessThan(1);
      await page.goBack();
      await matrix.waitFor();
      await page.waitForFunction(`document.documentElement.scrollWidth <= ${width}`, undefined, { timeout: 5000 });
      await page.screenshot({ path: join(SCREENSHOTS, 'metrics-phone.png'), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 800 });
    }

    await page.getByRole('link', { name: 'Deploy this iteration' }).click();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByTestId('deployment-key').waitFor();
    await page.getByLabel('Drop a photo here or choose one').setInputFiles(hemlock[0]);
    const predictions = page.getByRole('list', { name: 'Predictions' });
    await predictions.getByText(/^Hemlock: /).waitFor();
    await expect(predictions.getByRole('listitem').count()).resolves.toBe(2);
    await page.getByRole('button', { name: 'I have saved it' }).click();
    expect(harness.problems()).toEqual([]);
  }, 300_000);
});
