import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { modelZip, tinyDetector } from '../support/tiny-models.js';

/** A plain photo of the given size (what matters here is its shape). */
const photo = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 60, b: 40 } } })
    .png()
    .toBuffer();

/** A small grey square, as scans or icons are (`level` 0–255 tells them apart). */
const grey = (side: number, level: number) =>
  sharp({ create: { width: side, height: side, channels: 3, background: { r: level, g: level, b: level } } })
    .png()
    .toBuffer();

type Rect = { x: number; y: number; width: number; height: number };
const rounded = (rect: Rect | null) => [rect!.x, rect!.y, rect!.width, rect!.height].map(Math.round);
/** Each side within `pixels` of where it should be (a 2-pixel stroke reaches 1 pixel beyond its rectangle). */
function expectWithin(actual: Rect | null, expected: Rect, pixels: number) {
  const sides = (rect: Rect) => [rect.x, rect.y, rect.x + rect.width, rect.y + rect.height];
  const [got, wanted] = [sides(actual!), sides(expected)];
  expect(got.map((side, index) => Math.abs(side - wanted[index]) <= pixels)).toEqual([true, true, true, true]);
}

/**
 * At a phone's width the page scrolls only vertically and every control outside a table and the project's tabs (they
 * scroll sideways on their own) lies within the screen; back to 1280×800 after.
 */
async function fitsOnAPhone(page: Page, screenshot: string) {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction('document.documentElement.scrollWidth <= 390', undefined, { timeout: 5000 });
  const outside = await page.evaluate(`
    [...document.querySelectorAll('main button, main select, main input, main textarea, main a')]
      .filter((element) => element.checkVisibility() && !element.closest('table, nav[aria-label="Project"]'))
      .filter((element) => element.getBoundingClientRect().left < 0 || element.getBoundingClientRect().right > 390)
      .map((element) => element.outerHTML.slice(0, 120))`);
  expect(outside).toEqual([]);
  await page.screenshot({ path: join(SCREENSHOTS, screenshot), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Refused on purpose: the training form's run on an empty dataset, a test run without a test split (both 422). */
const REFUSED_RUN = [/status of 422/];

/** What a new user sees first: empty lists that say what to do, a training form in plain words, boxes on the photo. */
describe('console: forms and layout a new user meets', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;
  /** The detection project of the box test, with its imported model and a suggestion: the phone test reads it. */
  let shapes: { projectId: string; iterationId: string };

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'newcomer');
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('says how to fill an empty dataset, and what to do when a filter matches nothing', async () => {
    // A project of nothing yet: the analysis says what to add, not a bare heading and seven bars at 0.
    const bare = await client.createProject('classification', [], 'bare');
    await page.goto(`/projects/${bare.id}/analysis`);
    await page.getByText('No labels yet: add the ones your model should learn on the Dataset tab.').waitFor();
    await page.getByText('No images yet.', { exact: true }).waitFor();
    await expect(page.getByRole('list', { name: 'Images by their longer side' }).count()).resolves.toBe(0);
    await expect(
      page.getByRole('list', { name: 'Problems and warnings' }).getByRole('link').allTextContents(),
    ).resolves.toEqual(['Add labels']);
    const project = await client.createProject('classification', ['cat', 'dog'], 'pets');
    await page.goto(`/projects/${project.id}/dataset`);
    await page.getByText('No photos yet.').waitFor();
    // The first Tab stop shows a way past the account links and the project's tabs, to the page itself.
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    await expect(skip.evaluate((link) => link === link.ownerDocument.activeElement)).resolves.toBe(true);
    expect((await skip.boundingBox())!.y).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    await expect(
      page
        .locator(':focus')
        .evaluate((element) => [element.closest('#content') !== null, element.getAttribute('aria-label')]),
    ).resolves.toEqual([true, 'Remove label cat']);
    await expect(page.getByRole('listbox', { name: 'Images' }).isVisible()).resolves.toBe(false);
    // No keyboard help for a grid with nothing to move through.
    await expect(page.getByText('Click the grid, then').count()).resolves.toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'empty-dataset.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    // The filters' names on one line, their fields on another; the label's button beside its field, not below.
    const filters = page.getByRole('group', { name: 'Filter images' });
    const topsOf = (locator: Locator) =>
      locator.evaluateAll((elements) => elements.map((element) => Math.round(element.getBoundingClientRect().top)));
    const nameTops = await filters.locator('label').evaluateAll((labels) =>
      labels.map((label) => {
        const text = label.ownerDocument.createRange();
        text.selectNodeContents(label.firstChild!);
        return Math.round(text.getBoundingClientRect().top);
      }),
    );
    expect(nameTops).toEqual([nameTops[0], nameTops[0], nameTops[0]]);
    const fieldTops = await topsOf(filters.locator('select, input'));
    expect(fieldTops).toEqual([fieldTops[0], fieldTops[0], fieldTops[0]]);
    const addLabel = page.getByRole('form', { name: 'Add label' });
    const [field, button] = await Promise.all([
      addLabel.getByLabel('New label').boundingBox(),
      addLabel.getByRole('button', { name: 'Add label' }).boundingBox(),
    ]);
    expect(Math.round(button!.y + button!.height)).toBe(Math.round(field!.y + field!.height));

    // The message's button opens the upload's file chooser.
    const choosing = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Choose photos to upload' }).click();
    await (
      await choosing
    ).setFiles([
      { name: 'cat.png', mimeType: 'image/png', buffer: await photo(40, 30) },
      // 40 and 31 wide: a median width of 35.5, shown in whole pixels.
      { name: 'dog.png', mimeType: 'image/png', buffer: await photo(31, 40) },
    ]);
    await page.getByRole('status').filter({ hasText: '2 uploaded' }).waitFor();
    const grid = page.getByRole('listbox', { name: 'Images' });
    await grid.getByRole('option', { name: /^dog\.png/ }).waitFor();
    await expect(page.getByText('No photos yet.').count()).resolves.toBe(0);

    await page.getByLabel('Show').selectOption('excluded');
    await page.getByText('No image matches these filters.').waitFor();
    await page.getByLabel('Metadata (key=value)').fill('camera=north');
    await page.getByRole('button', { name: 'Show all images' }).click();
    await grid.getByRole('option', { name: /^cat\.png/ }).waitFor();
    await expect(page.getByLabel('Show').inputValue()).resolves.toBe('');
    await expect(page.getByLabel('Metadata (key=value)').inputValue()).resolves.toBe('');

    // One photo labeled: the grid and the analysis count it in the singular.
    await grid.getByRole('option', { name: /^cat\.png/ }).click();
    await page.keyboard.press('1');
    await grid.getByRole('option', { name: /^cat\.png, cat/ }).waitFor();
    await page.getByLabel('Show').selectOption({ label: 'cat (1)' });
    await page.getByRole('toolbar', { name: 'Selected images' }).getByText('1 image', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'Analysis' }).click();
    const balance = page.getByRole('list', { name: 'Images per label' });
    await expect(balance.getByRole('listitem').first().textContent()).resolves.toBe('cat1 image (1 for training)');
    await expect(page.getByText(/^2 images: 1 labeled, 1 unlabeled/).count()).resolves.toBe(1);
    await page.getByText('Width 31–40 px (median 36), height 30–40 px (median 35)').waitFor();

    // A zip whose name does not say so (as a download can be saved) is still imported, its folders as labels.
    await page.getByRole('link', { name: 'Dataset' }).click();
    const holiday = zipSync({ 'dog/beach.png': new Uint8Array(await photo(50, 40)) });
    await page
      .getByLabel('Images or zip archives to upload')
      .setInputFiles({ name: 'holiday', mimeType: 'application/octet-stream', buffer: Buffer.from(holiday) });
    await page.getByRole('status').filter({ hasText: '1 uploaded.' }).waitFor();
    await page
      .getByRole('listbox', { name: 'Images' })
      .getByRole('option', { name: /^(dog\/)?beach\.png, dog/ })
      .waitFor();
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it("imports a detection dataset's COCO file with its photos, and says which boxes were not taken as they were", async () => {
    const project = await client.createProject('detection', [], 'kitchen');
    await page.goto(`/projects/${project.id}/dataset`);
    // The upload says what a zip brings to a detection project: boxes from a COCO file, not labels from folders.
    await page
      .getByText(
        'Drop photos or a .zip here (with a COCO JSON file, zipped or beside the photos: its boxes come along), or',
      )
      .waitFor();
    // And so does the empty grid, which once offered folders as labels here too.
    await expect(page.locator('.empty-state p').textContent()).resolves.toBe(
      'No photos yet. Upload the photos your model should learn from: drop them (with the COCO JSON file your ' +
        'labeling tool exported, or a .zip of both: their boxes come along) on the upload area above, or choose ' +
        'them from your computer.',
    );
    const coco = {
      images: [
        { id: 1, file_name: 'table.png', width: 300, height: 180 },
        { id: 2, file_name: 'shelf.png', width: 120, height: 200 },
        // Listed, but not in the zip (a photo left out of the export): a warning, not a refused file.
        { id: 3, file_name: 'window.png', width: 200, height: 200 },
      ],
      categories: [{ id: 1, name: 'cup' }],
      annotations: [
        { id: 10, image_id: 1, category_id: 1, bbox: [10, 10, 100, 80] },
        { id: 11, image_id: 1, category_id: 9, bbox: [0, 0, 50, 50] },
        { id: 12, image_id: 2, category_id: 1, bbox: [60, 100, 100, 150] },
      ],
    };
    const archive = zipSync({
      '_annotations.coco.json': new TextEncoder().encode(JSON.stringify(coco)),
      'table.png': await photo(300, 180),
      'shelf.png': await photo(120, 200),
    });
    await page
      .getByLabel('Images or zip archives to upload')
      .setInputFiles({ name: 'kitchen.zip', mimeType: 'application/zip', buffer: Buffer.from(archive) });
    await page
      .getByRole('status')
      .filter({ hasText: /^2 uploaded\.$/ })
      .waitFor();
    await page
      .getByText(
        '1 photo named in the annotations is not in the upload: to have it with its annotations, add it and upload ' +
          'again (photos already here are skipped); or leave it out.',
      )
      .click();
    await expect(
      page.getByRole('list', { name: 'Photos named in the annotations but not uploaded' }).textContent(),
    ).resolves.toBe('window.png');
    await expect(page.getByRole('list', { name: 'Files that were not uploaded' }).count()).resolves.toBe(0);
    const boxIssues = page.getByText('1 box not taken, 1 box cut to the image: see why');
    // The photos were uploaded: amber as a warning, not the red of a refusal.
    await expect(
      boxIssues.evaluate((summary) => summary.ownerDocument.defaultView!.getComputedStyle(summary).color),
    ).resolves.toBe('rgb(146, 64, 14)');
    await boxIssues.click();
    await expect(
      page.getByRole('list', { name: 'Boxes not taken as they were' }).getByRole('listitem').allTextContents(),
    ).resolves.toEqual([
      'table.png: annotation 2 of _annotations.coco.json: It names category id 9, which _annotations.coco.json does not list.',
      'shelf.png: annotation 3 of _annotations.coco.json: Its bbox [60, 100, 100, 150] reaches outside the 120×200 image: cut to [60, 100, 60, 100].',
    ]);
    await page
      .getByRole('listbox', { name: 'Images' })
      .getByRole('option', { name: /^table\.png, 1 box: cup, train$/ })
      .waitFor();
    // The filter counts the imported images of the label without a reload.
    await page.getByLabel('Show').locator('option').filter({ hasText: 'cup (2)' }).waitFor({ state: 'attached' });
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('takes a COCO file or a one-hot CSV chosen beside its photos (as a dataset folder holds them), with their boxes or labels', async () => {
    const project = await client.createProject('detection', [], 'pantry');
    await page.goto(`/projects/${project.id}/dataset`);
    const coco = {
      images: [{ id: 1, file_name: 'jar.png', width: 200, height: 120 }],
      categories: [{ id: 1, name: 'jar' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [20, 10, 80, 60] }],
    };
    const upload = page.getByLabel('Images or zip archives to upload');
    // The file chooser offers JSON files beside the photos in a detection project.
    await expect(upload.getAttribute('accept')).resolves.toBe('image/*,.zip,.json');
    await upload.setInputFiles([
      { name: 'jar.png', mimeType: 'image/png', buffer: await photo(200, 120) },
      { name: 'annotations.coco.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(coco)) },
    ]);
    // Not 'annotations.coco.json: The file is not an image', the boxes lost: the photo comes with its box and label.
    await page.getByRole('status').filter({ hasText: '1 uploaded.' }).waitFor();
    await expect(page.getByRole('list', { name: 'Files that were not uploaded' }).count()).resolves.toBe(0);
    await page
      .getByRole('listbox', { name: 'Images' })
      .getByRole('option', { name: /^jar\.png, 1 box: jar, train$/ })
      .waitFor();
    await page.getByRole('button', { name: 'Remove label jar' }).waitFor();

    // A multilabel project's one-hot CSV, chosen beside its photos, gives them their labels the same way.
    const holidays = await client.createProject('multilabel', [], 'holidays');
    await page.goto(`/projects/${holidays.id}/dataset`);
    await expect(upload.getAttribute('accept')).resolves.toBe('image/*,.zip,.csv');
    await upload.setInputFiles([
      { name: 'shore.png', mimeType: 'image/png', buffer: await photo(160, 90) },
      { name: '_classes.csv', mimeType: 'text/csv', buffer: Buffer.from('filename,beach,sunset\nshore.png,1,1\n') },
    ]);
    await page.getByRole('status').filter({ hasText: '1 uploaded.' }).waitFor();
    await page
      .getByRole('listbox', { name: 'Images' })
      .getByRole('option', { name: /^shore\.png, beach, sunset, train$/ })
      .waitFor();
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('offers the model types of the project, the backbones of the server (default chosen) and folds the advanced settings', async () => {
    const backbones = (await client.http.get('/v1/backbones').set('Authorization', client.auth).expect(200)).body as {
      id: string;
      description: string;
      inputSize: number;
      isDefault: boolean;
    }[];
    const fallback = backbones.find((backbone) => backbone.isDefault)!;
    const project = await client.createProject('detection', ['fork'], 'cutlery');
    await page.goto(`/projects/${project.id}/train`);
    const form = page.getByRole('form', { name: 'Training configuration' });
    const modelType = form.getByLabel('Model type');
    await modelType.waitFor();
    await expect(
      modelType.locator('option').evaluateAll((options) => options.map((option) => option.getAttribute('value'))),
    ).resolves.toEqual(['auto', 'tiny-detector', 'backbone-detector']);
    // The project's own setting is chosen, in words.
    await expect(modelType.locator('option:checked').textContent()).resolves.toBe(
      'Pretrained backbone with a new detector (photos)',
    );

    const backbone = form.getByLabel('Backbone', { exact: true });
    await expect(backbone.locator('option').allTextContents()).resolves.toEqual(
      backbones.map((item) => `${item.id}${item.isDefault ? ' (default)' : ''}`),
    );
    await expect(backbone.inputValue()).resolves.toBe(fallback.id);
    const backboneHint = await page.locator(`[id="${await backbone.getAttribute('aria-describedby')}"]`).textContent();
    expect(backboneHint).toContain(fallback.description);
    // The backbone sets the image size: no field to type one that would be ignored, but the size it uses.
    await expect(form.getByLabel(/Image size/).count()).resolves.toBe(0);
    await form
      .getByText(
        `Set by the backbone: ${fallback.id} sees photos at ${fallback.inputSize} × ${fallback.inputSize} pixels.`,
      )
      .waitFor();

    // Common settings first, with what each does and its range; the rest folded until asked for.
    const epochsHint = await page
      .locator(`[id="${await form.getByLabel('Epochs').getAttribute('aria-describedby')}"]`)
      .textContent();
    expect(epochsHint).toBe(
      'How many times training goes through every photo. More can learn more, and takes longer. (1 to 500 · default 10)',
    );
    await expect(form.getByLabel('Learning rate').isVisible()).resolves.toBe(false);
    await form.getByText('Advanced settings').click();
    for (const setting of [
      'Learning rate',
      'Batch size',
      'Validation share',
      'Seed',
      'Horizontal flip',
      'Crop scale',
      'Brightness',
    ])
      await expect(form.getByLabel(setting).isVisible()).resolves.toBe(true);
    // Shares in percent, as the rest of the console shows them, with their range and default in percent too.
    const hintOf = async (label: string) =>
      page.locator(`[id="${await form.getByLabel(label).getAttribute('aria-describedby')}"]`).textContent();
    for (const [setting, shown, limits] of [
      ['Validation share', '20', '(0 to 90 % · default 20 %)'],
      ['Crop scale', '85', '(50 to 100 % · default 85 %)'],
      ['Brightness', '15', '(0 to 100 % · default 15 %)'],
    ]) {
      await expect(form.getByLabel(setting).inputValue()).resolves.toBe(shown);
      await expect(hintOf(setting)).resolves.toContain(limits);
    }
    await expect(hintOf('Horizontal flip')).resolves.toContain('(default on)');
    // Only a backbone classifier fine-tunes backbone blocks: a detector is not offered what the API would refuse.
    await expect(form.getByLabel('Backbone blocks to fine-tune').count()).resolves.toBe(0);
    await form.getByLabel('Stop when the model stops getting better on the validation photos').check();
    await expect(form.getByLabel('Patience').inputValue()).resolves.toBe('5');
    await page.screenshot({ path: join(SCREENSHOTS, 'train-form.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    // What the empty dataset lacks shows before any click, each with the way to fix it, and Start says why it waits.
    const missing = form.getByRole('list', { name: 'What to fix before training' });
    await expect(missing.getByRole('listitem').allTextContents()).resolves.toEqual([
      'Label "fork" has 0 boxes in included training images; it needs at least 15. Fix it in the dataset',
    ]);
    await expect(missing.getByRole('link', { name: 'Fix it in the dataset' }).getAttribute('href')).resolves.toBe(
      `/projects/${project.id}/dataset?label=${project.labels.fork}`,
    );
    const start = form.getByRole('button', { name: 'Start training' });
    await expect(start.isDisabled()).resolves.toBe(true);
    await expect(
      page.locator(`[id="${await start.getAttribute('aria-describedby')}"]`).textContent(),
    ).resolves.toContain('Training cannot start yet:');

    // A model trained from scratch has no backbone to choose, and takes the image size typed.
    await modelType.selectOption('tiny-detector');
    await expect(form.getByLabel('Backbone', { exact: true }).count()).resolves.toBe(0);
    await expect(form.getByLabel('Image size (pixels)').inputValue()).resolves.toBe('128');
    // Automatic uses it only for small images it trains from scratch, and says so.
    await modelType.selectOption('auto');
    await expect(hintOf('Image size (pixels)')).resolves.toContain('Only for small images');

    // A classification project can build on one of its iterations instead.
    const pets = await client.createProject('classification', ['cat'], 'pets again');
    await page.goto(`/projects/${pets.id}/train`);
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Backbone blocks to fine-tune').waitFor();
    await page.getByLabel('Model type').selectOption('small-cnn');
    await expect(page.getByLabel('Backbone blocks to fine-tune').count()).resolves.toBe(0);
    await page.getByLabel('Model type').selectOption('transfer');
    await expect(page.getByLabel('Build on iteration').locator('option').allTextContents()).resolves.toEqual([
      'choose an iteration…',
    ]);
    await expect(page.getByLabel(/Image size/).count()).resolves.toBe(0);
    expect(harness.problems(REFUSED_RUN)).toEqual([]);
  }, 60_000);

  it('says what Automatic will train from the images, and offers only the settings that apply to it', async () => {
    const project = await client.createProject('classification', ['zero', 'one'], 'digits');
    // The project fine-tunes a backbone, which Automatic uses for photos only.
    await client.configureTraining(project.id, { fineTune: 1 });
    await client.upload(
      project.id,
      [await grey(28, 90), await grey(28, 160)],
      { label: 'zero', split: 'train' },
      'digit',
    );
    await page.goto(`/projects/${project.id}/train`);
    const form = page.getByRole('form', { name: 'Training configuration' });
    await form
      .getByText(
        /^Automatic will train: Small network trained from scratch \(small images, fast\), chosen from the 2 included images: small images \(median shorter side 28 px < 96\)\./,
      )
      .waitFor();
    // A model from scratch: no backbone to choose or fine-tune, and the image size it trains at to set.
    await expect(form.getByLabel('Backbone', { exact: true }).count()).resolves.toBe(0);
    await form.getByText('Advanced settings').click();
    await form.getByLabel('Batch size').waitFor();
    await expect(form.getByLabel('Backbone blocks to fine-tune').count()).resolves.toBe(0);
    const imageSize = form.getByLabel('Image size (pixels)');
    await expect(
      page.locator(`[id="${await imageSize.getAttribute('aria-describedby')}"]`).textContent(),
    ).resolves.toMatch(/^Automatic trains these small images from scratch, shrunk to this many pixels square/);
    await page.screenshot({ path: join(SCREENSHOTS, 'train-form-automatic-small.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    // Two labels of too few images: Start waits, saying so.
    await form.getByRole('list', { name: 'What to fix before training' }).waitFor();
    await expect(form.getByRole('button', { name: 'Start training' }).isDisabled()).resolves.toBe(true);

    // Chosen by hand, a backbone comes with its settings.
    await form.getByLabel('Model type').selectOption('backbone-classifier');
    await form.getByLabel('Backbone', { exact: true }).waitFor();
    await form.getByLabel('Backbone blocks to fine-tune').waitFor();

    // Photos make most of the images now: Automatic goes to the backbone, and says so.
    await client.upload(
      project.id,
      [await photo(300, 200), await photo(320, 240)],
      { label: 'one', split: 'train' },
      'photo',
    );
    await page.reload();
    await form
      .getByText(
        /^Automatic will train: Pretrained backbone with a new classifier \(photos\), chosen from the 4 included images: photos \(median shorter side 200 px ≥ 96\)\./,
      )
      .waitFor();
    await form.getByLabel('Backbone', { exact: true }).waitFor();

    // Five training images per label: Start is offered. An image removed meanwhile (the page's analysis is then
    // out of date) gets the run refused by the API, which says why.
    const more = await client.upload(project.id, [await grey(28, 40), await grey(28, 60), await grey(28, 200)], {
      label: 'zero',
      split: 'train',
    });
    await client.upload(project.id, [await photo(330, 220), await photo(340, 230), await photo(350, 240)], {
      label: 'one',
      split: 'train',
    });
    // The page's analysis is read before the image is removed below (after it, Start would be withheld instead).
    await Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname === `/v1/projects/${project.id}/analysis`),
      page.reload(),
    ]);
    const start = form.getByRole('button', { name: 'Start training' });
    await start.waitFor();
    await page.waitForFunction(
      '!document.querySelector(\'form[aria-label="Training configuration"] button[type=submit]\')?.disabled',
    );
    await expect(form.getByRole('list', { name: 'What to fix before training' }).count()).resolves.toBe(0);
    await client.http
      .delete(`/v1/projects/${project.id}/images/${more[0].id}`)
      .set('Authorization', client.auth)
      .expect(204);
    // What is typed in percent reaches the API as its fraction; a model from scratch gets no fine-tuning.
    await form.getByLabel('Model type').selectOption('small-cnn');
    await form.getByText('Advanced settings').click();
    await form.getByLabel('Validation share').fill('30');
    await form.getByLabel('Crop scale').fill('70');
    const [queued] = await Promise.all([
      page.waitForRequest(
        (request) => request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/iterations'),
      ),
      start.click(),
    ]);
    const sent = queued.postDataJSON() as {
      trainingConfig: {
        fineTune: number;
        validationSplit: number;
        augmentation: { cropScale: number; brightness: number };
      };
    };
    expect([
      sent.trainingConfig.fineTune,
      sent.trainingConfig.validationSplit,
      sent.trainingConfig.augmentation.cropScale,
      sent.trainingConfig.augmentation.brightness,
    ]).toEqual([0, 0.3, 0.7, 0.15]);
    // Each reason on a line of its own, with the way to the images concerned.
    const refused = form.getByRole('alert');
    await refused.getByText('The dataset is not ready for training:').waitFor();
    await expect(refused.getByRole('listitem').allTextContents()).resolves.toEqual([
      'Label "zero" has 4 included training images; it needs at least 5.',
    ]);
    await expect(refused.getByRole('link', { name: 'The analysis' }).getAttribute('href')).resolves.toBe(
      `/projects/${project.id}/analysis`,
    );
    expect(harness.problems(REFUSED_RUN)).toEqual([]);
  }, 60_000);

  it('draws boxes exactly over the photo at every size, and suggestion cards keep their badge on one line', async () => {
    const project = await client.createProject('detection', ['red', 'blue'], 'shapes');
    const [wide] = await client.upload(project.id, [await photo(300, 180), await photo(120, 200)], {}, 'shape');
    const box = { x: 0.25, y: 0.2, width: 0.5, height: 0.4 };
    await client.http
      .put(`/v1/projects/${project.id}/images/${wide.id}/regions`)
      .set('Authorization', client.auth)
      .send({ regions: [{ label: 'red', ...box }] })
      .expect(200);
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 800, height: 600 },
      { width: 390, height: 844 },
    ]) {
      await page.setViewportSize(viewport);
      await page.goto(`/projects/${project.id}/images/${wide.id}`);
      await page.waitForFunction("(document.querySelector('.box-editor img')?.naturalHeight ?? 0) > 0");
      const image = (await page.getByRole('img', { name: 'shape-0.png' }).boundingBox())!;
      // The photo keeps its shape and fits the screen; the drawing surface and the box sit on it exactly.
      expect(image.width / image.height).toBeCloseTo(300 / 180, 1);
      expect(image.x + image.width).toBeLessThanOrEqual(viewport.width);
      expect(rounded(await page.getByRole('application').boundingBox())).toEqual(rounded(image));
      const drawn = await page.locator('.box-editor .box rect').first().boundingBox();
      expectWithin(
        drawn,
        {
          x: image.x + box.x * image.width,
          y: image.y + box.y * image.height,
          width: box.width * image.width,
          height: box.height * image.height,
        },
        1.5,
      );
      await page.waitForFunction(`document.documentElement.scrollWidth <= ${viewport.width}`);
      await page.screenshot({ path: join(SCREENSHOTS, `box-editor-${viewport.width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    const imported = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyDetector(['red', 'blue'])), 'model.zip')
      .expect(201);
    shapes = { projectId: project.id, iterationId: imported.body.id };
    const requests: string[] = [];
    page.on('request', (request) => requests.push(new URL(request.url()).pathname));
    await page.goto(`/projects/${project.id}/suggestions`);
    await page.getByRole('button', { name: 'Suggest labels for unlabeled images' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^1 of 1 images got suggestions\.$/ })
      .waitFor({ timeout: 90_000 });
    const card = page.getByRole('list', { name: 'Suggestions' }).getByRole('listitem', { name: /^shape-1\.png: / });
    await card.locator('.overlay img').waitFor();
    // The file name comes with the suggestions: no request per card but its thumbnail.
    expect(requests.filter((path) => /\/images(\/[^/]+)?$/.test(path))).toEqual([]);
    const overlay = await card.locator('.overlay').boundingBox();
    expect(rounded(overlay)).toEqual(rounded(await card.locator('.overlay img').boundingBox()));

    await page.getByRole('button', { name: 'Correct boxes of shape-1.png' }).click();
    const correction = page.getByRole('region', { name: 'Boxes of shape-1.png' });
    // Measured once the photo is decoded and the surface drawn on it (as for the image page above).
    await page.waitForFunction("(document.querySelector('.box-correction .box-editor img')?.naturalHeight ?? 0) > 0");
    await correction.getByRole('application').waitFor();
    const image = (await correction.getByRole('img', { name: 'shape-1.png' }).boundingBox())!;
    expect(rounded(await correction.getByRole('application').boundingBox())).toEqual(rounded(image));
    await page.mouse.move(image.x + image.width * 0.2, image.y + image.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(image.x + image.width * 0.6, image.y + image.height * 0.5, { steps: 4 });
    await page.mouse.up();
    const badge = card.getByText('corrected', { exact: true });
    await badge.waitFor();
    // One line of the badge's text: its font size times the normal line height (about 1.2).
    const line =
      1.25 *
      Number(
        await page.evaluate(`parseFloat(getComputedStyle(document.querySelector('.suggestions .badge')).fontSize)`),
      );
    expect((await badge.boundingBox())!.height).toBeLessThan(line * 1.5);
    const [count, button] = [
      await card.locator('.box-count').boundingBox(),
      await card.getByRole('button', { name: 'Correct boxes of shape-1.png' }).boundingBox(),
    ];
    expect(count!.height).toBeLessThan(40);
    expect(button!.y).toBeGreaterThanOrEqual(count!.y + count!.height);
    await page.screenshot({ path: join(SCREENSHOTS, 'suggestion-badge.png'), fullPage: true });
    expect(harness.problems(REFUSED_RUN)).toEqual([]);
  }, 180_000);

  it('shows the review screens at a phone width without sideways scrolling, every control within reach', async () => {
    const base = `/projects/${shapes.projectId}`;
    await page.goto(`${base}/suggestions`);
    await page.getByRole('list', { name: 'Suggestions' }).locator('.overlay img').first().waitFor();
    await fitsOnAPhone(page, 'suggestions-phone.png');
    await page.goto(`${base}/iterations/${shapes.iterationId}`);
    // No photo in the test split: the console says how to put some there, in its own words (not 'split=test').
    await page.getByRole('button', { name: 'Test on the test split' }).click();
    const noTestPhotos = page.getByRole('alert').filter({ hasText: 'in the test split yet' });
    await expect(noTestPhotos.textContent()).resolves.toBe(
      'No photo with boxes of a label of this iteration is in the test split yet. On the Dataset tab, select some and ' +
        'choose Move to split → Test, or test on labeled photos from your computer below.',
    );
    await expect(noTestPhotos.getByRole('link', { name: 'Dataset' }).getAttribute('href')).resolves.toBe(
      `${base}/dataset`,
    );
    // At a phone's width each fact sits under its name on one line, not squeezed beside a long name.
    await page.setViewportSize({ width: 390, height: 844 });
    const term = page.getByRole('term').filter({ hasText: 'Imported from' });
    const termBox = (await term.boundingBox())!;
    const valueBox = (await term.locator('xpath=following-sibling::dd[1]').boundingBox())!;
    expect(valueBox.y).toBeGreaterThanOrEqual(termBox.y + termBox.height);
    expect(valueBox.height).toBeLessThan(termBox.height * 1.5);
    await fitsOnAPhone(page, 'iteration-phone.png');
    await page.goto(`${base}/predictions`);
    await page.getByText('No stored prediction yet.').waitFor();
    await fitsOnAPhone(page, 'predictions-phone.png');
    await page.goto(`${base}/history`);
    await page
      .getByRole('list', { name: 'Events' })
      .getByText(/imported from a .* model/)
      .first()
      .waitFor();
    await fitsOnAPhone(page, 'history-phone.png');
    // The top bar wraps between its links, never inside one ("API" on one line, "docs" on the next).
    await page.setViewportSize({ width: 390, height: 844 });
    const account = page.getByRole('navigation', { name: 'Account' });
    const oneLine = (await account.getByRole('link', { name: 'Projects' }).boundingBox())!.height;
    for (const name of ['Shared models', 'API tokens', 'API docs'])
      expect((await account.getByRole('link', { name }).boundingBox())!.height).toBeCloseTo(oneLine, 0);
    // The top bar, the project's name and its tabs are compact: the page itself starts in the top fifth of the
    // screen, not a third of the way down. The tabs are one row that scrolls sideways; the account links all in sight.
    const tabs = page.getByRole('navigation', { name: 'Project' });
    const tabTops = await tabs
      .getByRole('link')
      .evaluateAll((links) => links.map((link) => Math.round(link.getBoundingClientRect().top)));
    expect(new Set(tabTops).size).toBe(1);
    expect((await page.locator('#content').boundingBox())!.y).toBeLessThan(844 / 5);
    const logOut = (await account.getByRole('button', { name: 'Log out' }).boundingBox())!;
    expect(logOut.x + logOut.width).toBeLessThanOrEqual(390);
    // The open tab is scrolled into its row, when the window narrows as when it opens: History and Settings (the
    // last) show they are the page open.
    await expect(
      tabs.getByRole('link', { name: 'History' }).evaluate((link) => link.getBoundingClientRect().right <= 390),
    ).resolves.toBe(true);
    await page.goto(`${base}/settings`);
    const settingsTab = tabs.getByRole('link', { name: 'Settings' });
    await settingsTab.waitFor();
    await expect(settingsTab.getAttribute('aria-current')).resolves.toBe('page');
    await expect(settingsTab.evaluate((link) => link.getBoundingClientRect().right <= 390)).resolves.toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'console2-phone-settings.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(harness.problems(REFUSED_RUN)).toEqual([]);
  }, 60_000);
});
