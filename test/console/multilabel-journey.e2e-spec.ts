import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { type ConsoleHarness, sessionToken, startConsole, signUp, SCREENSHOTS } from '../support/browser.js';
import {
  colourPicture,
  MULTILABEL_PICTURES_PER_SET,
  MULTILABEL_TRAINING_CONFIG,
  MULTILABEL_TRAINING_SETS,
} from '../support/generated-images.js';

const PER_SET = MULTILABEL_PICTURES_PER_SET;

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** The screen as it is, on a desktop and on a phone. */
async function screenshots(page: Page, name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, `multilabel-${name}.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(SCREENSHOTS, `multilabel-${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

describe('console: a multi-label classification project', () => {
  let harness: ConsoleHarness;

  beforeAll(async () => {
    harness = await startConsole();
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('creates one, uploads with several labels, labels selections and an image, filters, trains, reads per-label metrics, quick-tests and test-runs photos, adds a stored prediction and accepts a suggestion with their label sets', async () => {
    let seed = 100;
    const sets = [];
    for (const set of MULTILABEL_TRAINING_SETS) {
      const files = await Promise.all(Array.from({ length: PER_SET }, () => colourPicture(set, seed++)));
      sets.push({ set, files });
    }
    const page = await harness.newPage(DESKTOP);
    await signUp(page, 'colourist');
    await page.getByLabel('Project name').fill('Colours');
    await page.getByLabel(/^Multi-label classification/).check();
    await screenshots(page, 'new-project');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Colours multi-label' }).waitFor();
    for (const label of ['red', 'green', 'blue']) {
      await page.getByLabel('New label').fill(label);
      await page.getByRole('button', { name: 'Add label' }).click();
      await page.getByRole('button', { name: `Remove label ${label}` }).waitFor();
    }

    // Each upload with the labels ticked for it; the red-and-green pictures come unlabeled, to label them here.
    const uploadLabels = page.getByRole('group', { name: 'Labels for the photos uploaded (optional)' });
    const toolbarCount = (count: number) =>
      page
        .getByRole('toolbar', { name: 'Selected images' })
        .getByRole('status')
        .filter({ hasText: new RegExp(`^${count} images`) })
        .waitFor();
    let uploaded = 0;
    for (const { set, files } of sets) {
      const labeled = set.join('-') === 'red-green' ? [] : set;
      for (const colour of ['red', 'green', 'blue'] as const)
        await uploadLabels.getByLabel(colour, { exact: true }).setChecked(labeled.includes(colour));
      await page
        .getByLabel('Images or zip archives to upload')
        .setInputFiles(
          files.map((buffer, index) => ({ name: `${set.join('-')}-${index}.png`, mimeType: 'image/png', buffer })),
        );
      uploaded += files.length;
      await toolbarCount(uploaded);
    }
    const grid = page.getByRole('listbox', { name: 'Images' });
    const show = page.getByLabel('Show');
    // Filtered, so that the images looked for are among those the grid draws.
    await show.selectOption({ label: `blue (${3 * PER_SET})` });
    await toolbarCount(3 * PER_SET);
    await grid.getByRole('option', { name: /^green-blue-0\.png, green, blue, train/ }).waitFor();
    await grid.getByRole('option', { name: /^red-green-blue-0\.png, red, green, blue, train/ }).waitFor();

    // Removing a label from a selection leaves the others; Undo puts it back.
    await grid.getByRole('option', { name: /^green-blue-0\.png/ }).click({ modifiers: ['Control'] });
    await page.getByLabel('Remove label from selected').selectOption({ label: 'blue' });
    await page.getByRole('status').filter({ hasText: 'Removed blue from green-blue-0.png.' }).waitFor();
    await toolbarCount(3 * PER_SET - 1);
    await show.selectOption({ label: `green (${3 * PER_SET})` });
    await grid.getByRole('option', { name: /^green-blue-0\.png, green, train/ }).waitFor();
    await page.getByRole('button', { name: 'Undo' }).click();
    await grid.getByRole('option', { name: /^green-blue-0\.png, green, blue, train/ }).waitFor();

    // The untagged filter, then a selection given two labels, one after the other: adding keeps what they had.
    await show.selectOption('unlabeled');
    await toolbarCount(PER_SET);
    await page.getByRole('button', { name: 'Select all' }).click();
    await page.getByLabel('Add label to selected').selectOption({ label: 'red' });
    await page
      .getByRole('status')
      .filter({ hasText: `Added red to ${PER_SET} images.` })
      .waitFor();
    await toolbarCount(0);
    await show.selectOption({ label: `red (${3 * PER_SET})` });
    await grid.getByRole('option', { name: /^red-green-0\.png, red, train/ }).waitFor();
    await page.getByRole('button', { name: 'Select all' }).click();
    await page.getByLabel('Add label to selected').selectOption({ label: 'green' });
    await page
      .getByRole('status')
      .filter({ hasText: `Added green to ${3 * PER_SET} images.` })
      .waitFor();
    await grid.getByRole('option', { name: /^red-0\.png, red, green, train/ }).waitFor();
    await grid.getByRole('option', { name: /^red-green-blue-0\.png, red, green, blue, train/ }).waitFor();
    // Undo takes off only what that change added: the red pictures lose green, the others keep theirs.
    await page.getByRole('button', { name: 'Undo' }).click();
    await grid.getByRole('option', { name: /^red-0\.png, red, train/ }).waitFor();
    await grid.getByRole('option', { name: /^red-green-0\.png, red, train/ }).waitFor();
    await grid.getByRole('option', { name: /^red-green-blue-0\.png, red, green, blue, train/ }).waitFor();

    // The image page: each label a toggle, by its number or a click; the second label of red-green-0.png by key.
    await grid.getByRole('option', { name: /^red-green-0\.png/ }).dblclick();
    await page.getByRole('heading', { name: 'red-green-0.png' }).waitFor();
    const labelsOfImage = page.getByRole('group', { name: 'Labels', exact: true });
    await labelsOfImage
      .getByRole('status')
      .filter({ hasText: /^Labels: red$/ })
      .waitFor();
    await page.keyboard.press('2');
    await labelsOfImage
      .getByRole('status')
      .filter({ hasText: /^Labels: red, green$/ })
      .waitFor();
    await expect(labelsOfImage.getByRole('button', { name: '2 green' }).getAttribute('aria-pressed')).resolves.toBe(
      'true',
    );
    await labelsOfImage.getByRole('button', { name: '3 blue' }).click();
    await labelsOfImage
      .getByRole('status')
      .filter({ hasText: /^Labels: red, green, blue$/ })
      .waitFor();
    await labelsOfImage.getByRole('button', { name: '3 blue' }).click();
    await labelsOfImage
      .getByRole('status')
      .filter({ hasText: /^Labels: red, green$/ })
      .waitFor();
    await expect(labelsOfImage.getByRole('button', { name: '3 blue' }).getAttribute('aria-pressed')).resolves.toBe(
      'false',
    );
    await screenshots(page, 'image');
    // 0 takes every label off; 1 and 2 give them back.
    await page.keyboard.press('0');
    await labelsOfImage
      .getByRole('status')
      .filter({ hasText: /^Labels: none yet$/ })
      .waitFor();
    await page.keyboard.press('1');
    await labelsOfImage
      .getByRole('status')
      .filter({ hasText: /^Labels: red$/ })
      .waitFor();
    await page.keyboard.press('2');
    await labelsOfImage
      .getByRole('status')
      .filter({ hasText: /^Labels: red, green$/ })
      .waitFor();
    // Opened from the grid filtered by red, the image leads back to that filtered grid.
    await page.getByRole('link', { name: '← Filtered images' }).click();
    await expect(show.locator('option:checked').textContent()).resolves.toBe(`red (${3 * PER_SET})`);

    // The other red-and-green pictures by keyboard: a digit on the grid adds its label to the focused image.
    await show.selectOption({ label: `red (${3 * PER_SET})` });
    for (let index = 1; index < PER_SET; index += 1) {
      await grid.getByRole('option', { name: new RegExp(`^red-green-${index}\\.png, red, train`) }).click();
      await page.keyboard.press('2');
      await grid.getByRole('option', { name: new RegExp(`^red-green-${index}\\.png, red, green, train`) }).waitFor();
    }
    await page
      .getByRole('status')
      .filter({ hasText: `Added green to red-green-${PER_SET - 1}.png.` })
      .waitFor();
    await show.selectOption({ label: `green (${4 * PER_SET})` });
    await toolbarCount(4 * PER_SET);
    await show.selectOption('');
    await toolbarCount(6 * PER_SET);
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    // Pictures of two and three labels, selected: the toolbar adds or removes a label.
    await show.selectOption({ label: `blue (${3 * PER_SET})` });
    await toolbarCount(3 * PER_SET);
    await page.getByRole('button', { name: 'Select all' }).click();
    await page.getByLabel('Remove label from selected').waitFor();
    await screenshots(page, 'dataset');
    await page.getByRole('button', { name: 'Clear selection' }).click();

    // The analysis counts each label on every image that carries it.
    await page.getByRole('link', { name: 'Analysis', exact: true }).click();
    await page.getByRole('heading', { name: 'Ready to train' }).waitFor();
    await expect(
      page
        .getByRole('list', { name: 'Images per label' })
        .getByRole('meter')
        .evaluateAll((meters) => meters.map((meter) => meter.getAttribute('aria-label'))),
    ).resolves.toEqual([`red: ${3 * PER_SET} images`, `green: ${4 * PER_SET} images`, `blue: ${3 * PER_SET} images`]);
    await page.getByText(`${6 * PER_SET} images: ${6 * PER_SET} labeled, 0 unlabeled`).waitFor();
    await screenshots(page, 'analysis');

    // Training: the small network from scratch on these 24-pixel pictures, as the API's multilabel test trains it.
    await page.getByRole('link', { name: 'Train' }).click();
    const form = page.getByRole('form', { name: 'Training configuration' });
    await form.getByLabel('Model type').selectOption('small-cnn');
    await form.getByLabel('Image size').fill('24');
    await form.getByLabel('Epochs').fill(String(MULTILABEL_TRAINING_CONFIG.epochs));
    await form.getByText('Advanced settings').click();
    await form.getByLabel('Batch size').fill('8');
    await form.getByLabel('Learning rate').fill(String(MULTILABEL_TRAINING_CONFIG.learningRate));
    await form.getByLabel('Seed').fill('3');
    await form.getByLabel('Horizontal flip').uncheck();
    await form.getByLabel('Crop scale').fill('100');
    await form.getByLabel('Brightness').fill('0');
    await form.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('cell', { name: 'completed' }).waitFor({ timeout: 180_000 });
    await expect(page.getByRole('columnheader', { name: 'mAP', exact: true }).count()).resolves.toBe(1);

    const opened = page.waitForResponse(
      (response) => response.url().includes('/metrics?threshold=0.5') && response.ok(),
    );
    await page.getByRole('link', { name: 'Iteration 1' }).click();
    await page.waitForURL(/\/iterations\//);
    const iterationUrl = page.url();
    const atHalf = (await (await opened).json()) as {
      map: number;
      precision: number;
      perLabel: { label: string; ap: number }[];
    };
    const asPercent = (value: number) => `${(value * 100).toFixed(1)}%`;
    const summary = page.locator('dl.summary');
    await summary.getByText('mAP', { exact: true }).waitFor();
    await expect(summary.locator('div').filter({ hasText: /^mAP/ }).locator('dd').textContent()).resolves.toBe(
      asPercent(atHalf.map),
    );
    expect(atHalf.map).toBeGreaterThanOrEqual(0.9);
    const perLabel = page.getByRole('table', { name: 'Metrics per label' });
    await expect(perLabel.getByRole('columnheader').allTextContents()).resolves.toEqual([
      'Label',
      'Precision',
      'Recall',
      'F1',
      'AP',
      'Examples',
      'Validation images',
    ]);
    await expect(
      perLabel
        .getByRole('rowheader')
        .allTextContents()
        .then((names) => names.sort()),
    ).resolves.toEqual(['blue', 'green', 'red']);
    const redRow = perLabel.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'red' }) });
    const redAp = atHalf.perLabel.find((row) => row.label === 'red')!.ap;
    await expect(redRow.getByRole('cell').nth(3).textContent()).resolves.toBe(asPercent(redAp));
    // No confusion matrix: a picture can be several labels at once.
    await expect(page.getByRole('table', { name: /Confusion matrix/ }).count()).resolves.toBe(0);

    // The threshold moves precision and recall, never AP.
    const strict = page.waitForResponse(
      (response) => response.url().includes('/metrics?threshold=0.95') && response.ok(),
    );
    await page.getByLabel(/^Probability threshold/).fill('0.95');
    await strict;
    await page.getByText('Probability threshold: 95%').waitFor();
    await expect(redRow.getByRole('cell').nth(3).textContent()).resolves.toBe(asPercent(redAp));
    // A label's validation images, each with its labels and those the model gives it at the threshold.
    await page.getByRole('button', { name: 'Show the validation images labeled green' }).click();
    const shown = page.getByRole('region', { name: 'Validation images: Labeled green' });
    await shown.getByRole('listitem').first().waitFor();
    await expect(shown.getByRole('listitem').first().textContent()).resolves.toMatch(
      /labeled: [a-z, ]*green[a-z, ]*predicted: .+/,
    );

    // The quick test: every label with its own probability; red and blue given to a red-and-blue picture, green not.
    const quickTest = page.getByRole('region', { name: 'Quick test' });
    await quickTest.getByLabel('Drop a photo here or choose one').setInputFiles({
      name: 'red-and-blue.png',
      mimeType: 'image/png',
      buffer: await colourPicture(['red', 'blue'], 501),
    });
    const predictions = quickTest.getByRole('list', { name: 'Predictions' });
    await predictions.getByRole('listitem').nth(2).waitFor();
    const lines = await predictions.getByRole('listitem').allTextContents();
    const line = (label: string) => lines.find((text) => text.includes(label))!;
    expect(line('red')).toMatch(/^✓red\d+\.\d%, given$/);
    expect(line('blue')).toMatch(/^✓blue\d+\.\d%, given$/);
    expect(line('green')).toMatch(/^green\d+\.\d%, below the threshold$/);
    await quickTest.getByText('2 labels from 50%:').waitFor();
    const addWith = quickTest.getByRole('group', { name: 'Labels to add it with' });
    await expect(addWith.getByLabel('red').isChecked()).resolves.toBe(true);
    await expect(addWith.getByLabel('green').isChecked()).resolves.toBe(false);
    await expect(addWith.getByLabel('blue').isChecked()).resolves.toBe(true);
    await screenshots(page, 'iteration');
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    // The labels to add it with can be changed: green too.
    await addWith.getByLabel('green').check();
    await quickTest.getByRole('button', { name: 'Add to the dataset' }).click();
    await quickTest.getByRole('status').filter({ hasText: 'Added to the dataset labeled red, green, blue.' }).waitFor();

    // A test run on labeled photos from the computer: a labels.json gives each its labels.
    const testSet = page.getByRole('form', { name: 'Test on labeled photos' });
    await testSet.getByLabel('Photos', { exact: true }).setInputFiles(
      await Promise.all(
        [502, 503].map(async (seed) => ({
          name: `unseen-${seed}.png`,
          mimeType: 'image/png',
          buffer: await colourPicture(['red', 'blue'], seed),
        })),
      ),
    );
    await testSet.getByLabel(/^Their labels/).setInputFiles({
      name: 'labels.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ 'unseen-502.png': ['red', 'blue'], 'unseen-503.png': ['blue', 'red'] })),
    });
    await testSet.getByRole('button', { name: 'Test on 2 photos' }).click();
    const runs = page.getByRole('table', { name: 'Test runs' });
    await runs.getByRole('cell', { name: 'completed' }).waitFor({ timeout: 60_000 });
    await expect(runs.getByRole('columnheader').allTextContents()).resolves.toEqual([
      'Requested',
      'Images from',
      'Status',
      'Images',
      'Precision / recall at ≥ 50%',
      'mAP',
      'Details',
    ]);
    await runs.getByRole('cell', { name: '100.0% / 100.0%' }).waitFor();
    // The run just requested shows its predictions by itself, its button pressed.
    await page.getByRole('heading', { name: '0 of 2 not given exactly their labels' }).waitFor();
    await expect(
      runs.getByRole('button', { name: /^Show predictions of the test run of / }).getAttribute('aria-pressed'),
    ).resolves.toBe('true');
    // Each photo's labels in the project's order, however labels.json listed them.
    await expect(
      page.getByRole('list', { name: 'Test predictions' }).getByRole('listitem').allTextContents(),
    ).resolves.toEqual([
      'unseen-502.pngexpected red, blue, predicted red, blue at ≥ 50%',
      'unseen-503.pngexpected red, blue, predicted red, blue at ≥ 50%',
    ]);
    await page.getByRole('heading', { name: 'Test runs' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'multilabel-test-run.png') });

    // The tab (the empty test split's reason beside Test on the test split links to the Dataset too).
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Dataset', exact: true }).click();
    await show.selectOption({ label: `blue (${3 * PER_SET + 1})` });
    await grid.getByRole('option', { name: /^red-and-blue\.png, red, green, blue, train/ }).waitFor();

    // A deployment's stored prediction lists the labels from 50%, ticked to add it with; a label corrected goes too.
    const [, projectId, iterationId] = /\/projects\/([^/]+)\/iterations\/([^/?]+)/.exec(iterationUrl)!;
    const auth = `Bearer ${await sessionToken(page)}`;
    const deployment = (
      await harness.testApp.http
        .post(`/v1/projects/${projectId}/deployments`)
        .set('Authorization', auth)
        .send({ iterationId, name: 'colours' })
        .expect(201)
    ).body as { id: string; apiKey: string };
    await harness.testApp.http
      .put(`/v1/projects/${projectId}/deployments/${deployment.id}/prediction-store`)
      .set('Authorization', auth)
      .send({ enabled: true })
      .expect(200);
    await harness.testApp.http
      .post(`/v1/predict/${deployment.id}`)
      .set('X-Api-Key', deployment.apiKey)
      .set('Content-Type', 'image/png')
      .send(await colourPicture(['red', 'blue'], 504))
      .expect(200);
    await page.getByRole('link', { name: 'Predictions', exact: true }).click();
    const stored = page.getByRole('list', { name: 'Stored predictions' });
    const card = stored.getByRole('listitem', { name: /^Prediction of .+: (red|blue) \d+\.\d%, (red|blue) \d+\.\d%$/ });
    await card.waitFor();
    const addWithLabels = card.getByRole('group', { name: 'Add with' });
    await expect(addWithLabels.getByLabel('red').isChecked()).resolves.toBe(true);
    await expect(addWithLabels.getByLabel('green').isChecked()).resolves.toBe(false);
    await expect(addWithLabels.getByLabel('blue').isChecked()).resolves.toBe(true);
    await addWithLabels.getByLabel('green').check();
    // The card's own checkbox, before its labels', selects it.
    await card.getByRole('checkbox').first().check();
    await screenshots(page, 'predictions');
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Add 1 to the dataset' }).click();
    await page.getByRole('status').filter({ hasText: '1 added to the dataset.' }).waitFor();
    const promoted = (await stored.getByRole('link', { name: 'in the dataset' }).getAttribute('href'))!
      .split('/')
      .pop();
    const image = (
      await harness.testApp.http
        .get(`/v1/projects/${projectId}/images/${promoted}`)
        .set('Authorization', auth)
        .expect(200)
    ).body as { labels: { name: string }[] };
    expect(image.labels.map((label) => label.name).sort()).toEqual(['blue', 'green', 'red']);
    // Once in the dataset, its labels are changed on the image, no longer here.
    await expect(card.getByRole('group', { name: 'Add with' }).count()).resolves.toBe(0);

    // Smart labeling: an unlabeled picture gets the labels from 50% suggested; a label ticked by hand goes with them.
    await page.getByRole('link', { name: 'Dataset', exact: true }).click();
    await page.getByLabel('Images or zip archives to upload').setInputFiles({
      name: 'unlabeled.png',
      mimeType: 'image/png',
      buffer: await colourPicture(['red', 'blue'], 502),
    });
    await page.getByRole('status').filter({ hasText: '1 uploaded.' }).waitFor();
    await page.getByRole('link', { name: 'Smart labeling', exact: true }).click();
    await page.getByRole('button', { name: 'Suggest labels for unlabeled images' }).click();
    await page.getByRole('status').filter({ hasText: '1 of 1 images got suggestions.' }).waitFor();
    const suggestions = page.getByRole('list', { name: 'Suggestions' });
    // In the order of their probabilities, both near 100 %.
    await suggestions.getByRole('listitem', { name: /^unlabeled\.png: (red, blue|blue, red)$/ }).waitFor();
    const suggested = suggestions
      .getByRole('listitem')
      .filter({ has: page.getByRole('checkbox', { name: 'unlabeled.png' }) });
    await suggested.getByRole('group', { name: 'Accept with' }).getByLabel('green').check();
    await suggestions.getByRole('listitem', { name: 'unlabeled.png: red, green, blue' }).waitFor();
    await suggested.getByRole('checkbox', { name: 'unlabeled.png' }).check();
    await screenshots(page, 'suggestions');
    await page.getByRole('button', { name: 'Accept selected (1)' }).click();
    await page.getByRole('status').filter({ hasText: '1 accepted.' }).waitFor();
    await page.getByRole('link', { name: 'Dataset', exact: true }).click();
    await show.selectOption({ label: `green (${4 * PER_SET + 3})` });
    // The grid draws the rows in view; the newest image is at its end.
    await grid.evaluate((element) => element.scrollTo(0, element.scrollHeight));
    await grid.getByRole('option', { name: /^unlabeled\.png, red, green, blue, train/ }).waitFor();

    // The history tells each upload's labels in words.
    await page.getByRole('link', { name: 'History', exact: true }).click();
    const events = page.getByRole('list', { name: 'Events' });
    await events.getByText(`Labeled ${PER_SET} images red`, { exact: true }).waitFor();
    const threeLabels = events.getByText(`Labeled ${PER_SET} images red, green, blue`, { exact: true });
    // A page of events can end within a request: Load more until the three-label upload shows.
    for (let more = 0; more < 5 && !(await threeLabels.isVisible()); more += 1) {
      const loaded = page.waitForResponse((response) => response.url().includes('/history') && response.ok());
      await page.getByRole('button', { name: 'Load more' }).click();
      await loaded;
    }
    await threeLabels.waitFor();
    await events.getByText(`Labeled ${PER_SET} images green, blue`, { exact: true }).waitFor();
    expect(harness.problems()).toEqual([]);
  }, 300_000);
});
