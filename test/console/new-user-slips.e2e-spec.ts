import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { BLUE, RED, colouredSquares } from '../support/generated-images.js';
import { modelZip, tinyClassifier } from '../support/tiny-models.js';

/** Unlabeled uploads after the 12 labeled ones: 205 images in all, a page of 200 and more. */
const UNLABELED = 193;
/** Refused on purpose: a quick test of a file that is not a photo. */
const QUICK_TEST_REFUSED = [/status of 4\d\d/];

/**
 * The slips of a new user's first day: a filtered list lost on the way back from an image, images past the first
 * page of 200, numbers out of range in the training form, a copy button that does not say whether it copied, code
 * snippets cut off on a phone.
 */
describe('console: slips a new user makes, and what the console answers', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  /** Every uploaded image's id by file name (Hemlock-0.png, Cherry-0.png, pic-a-0.png …). */
  const ids = new Map<string, string>();
  const grid = () => page.getByRole('listbox', { name: 'Images' });
  const cell = (name: string) => grid().getByRole('option', { name: new RegExp(`^${name.replaceAll('.', '\\.')},`) });
  const search = () => new URL(page.url()).searchParams;
  /** A tiny Hemlock / Cherry classifier imported into the project as a new iteration: its id. */
  const importTinyModel = async (): Promise<string> => {
    const imported = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['Hemlock', 'Cherry'])), 'model.zip')
      .expect(201);
    return imported.body.id;
  };

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'slip-maker');
    project = await client.createProject('classification', ['Hemlock', 'Cherry'], 'trees');
    const batches: [string, Buffer[], Record<string, string>][] = [
      ['Hemlock', await colouredSquares(RED, 6, 1), { label: 'Hemlock', split: 'train' }],
      ['Cherry', await colouredSquares(BLUE, 6, 2), { label: 'Cherry', split: 'train' }],
    ];
    // Uploaded 50 at a time, each batch its own names: pic-a-0.png … pic-d-42.png.
    const plain = await colouredSquares(RED, UNLABELED, 3);
    for (let start = 0; start < UNLABELED; start += 50)
      batches.push([`pic-${'abcd'[start / 50]}`, plain.slice(start, start + 50), {}]);
    for (const [prefix, files, fields] of batches)
      for (const image of await client.upload(project.id, files, fields, prefix)) ids.set(image.filename, image.id!);
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('keeps the filter in the URL: an image opened from it steps within it, and its way back returns to it', async () => {
    await page.goto(`/projects/${project.id}/dataset`);
    await cell('Hemlock-0.png').waitFor();
    await page.getByLabel('Show').selectOption({ label: 'Cherry (6)' });
    await page.getByLabel('Split').selectOption('train');
    await page.waitForFunction(`location.search.includes('split=train')`);
    expect([search().get('label'), search().get('split')]).toEqual([project.labels.Cherry, 'train']);
    await cell('Cherry-2.png').dblclick();
    await page.getByRole('heading', { name: 'Cherry-2.png' }).waitFor();
    // The image knows the list it came from: third of the six Cherry images, not of all 205.
    const images = page.getByRole('navigation', { name: 'Images' });
    await images.getByText('3 of 6', { exact: true }).waitFor();
    await images.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Cherry-3.png' }).waitFor();
    await images.getByText('4 of 6', { exact: true }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'slips-filtered-image.png'), fullPage: true });
    await images.getByRole('link', { name: '← Filtered images' }).click();
    await cell('Cherry-5.png').waitFor();
    expect([search().get('label'), search().get('split')]).toEqual([project.labels.Cherry, 'train']);
    await expect(page.getByLabel('Show').inputValue()).resolves.toBe(project.labels.Cherry);
    await expect(grid().getByRole('option').count()).resolves.toBe(6);

    // A reload (or the link sent to a colleague) opens the same filtered list.
    await page.reload();
    await cell('Cherry-0.png').waitFor();
    await expect(page.getByLabel('Split').inputValue()).resolves.toBe('train');
    await expect(grid().getByRole('option').count()).resolves.toBe(6);
    // Cleared, the filter leaves the URL too.
    await page.getByLabel('Show').selectOption('');
    await page.getByLabel('Split').selectOption('');
    await cell('Hemlock-0.png').waitFor();
    expect(new URL(page.url()).search).toBe('');
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('pages past the first 200 images, in the grid and on an image opened by a link', async () => {
    await page.goto(`/projects/${project.id}/dataset?show=unlabeled`);
    await cell('pic-a-0.png').waitFor();
    // Scrolled to its end, the grid reads the next page: the last upload shows.
    const last = 'pic-d-42.png';
    for (let tries = 0; tries < 50 && (await cell(last).count()) === 0; tries++) {
      await page.locator('.image-grid').evaluate((element) => element.scrollTo(0, element.scrollHeight));
      await page.waitForTimeout(100);
    }
    await cell(last).waitFor();

    // Image 203 of 205 (after the 12 labeled ones) from a link, beyond the first page of 200.
    await page.goto(`/projects/${project.id}/images/${ids.get('pic-d-40.png')}`);
    await page.getByRole('heading', { name: 'pic-d-40.png' }).waitFor();
    const images = page.getByRole('navigation', { name: 'Images' });
    await images.getByText('203 of 205', { exact: true }).waitFor();
    await expect(images.getByRole('link', { name: '← All images' }).getAttribute('href')).resolves.toBe(
      `/projects/${project.id}/dataset`,
    );
    await images.getByRole('button', { name: 'Previous' }).click();
    await page.getByRole('heading', { name: 'pic-d-39.png' }).waitFor();
    await images.getByText('202 of 205', { exact: true }).waitFor();
    expect(harness.problems()).toEqual([]);
  }, 90_000);

  it('names an out-of-range setting beside its field in words, and Start goes to it instead of sending it', async () => {
    const posted: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/iterations'))
        posted.push(request.url());
    });
    await page.goto(`/projects/${project.id}/train`);
    const form = page.getByRole('form', { name: 'Training configuration' });
    const epochs = form.getByLabel('Epochs');
    await epochs.fill('900');
    const problemOf = async (label: string) =>
      page
        .locator(`[id="${(await form.getByLabel(label).getAttribute('aria-describedby'))!.split(' ').at(-1)}"]`)
        .textContent();
    await expect(problemOf('Epochs')).resolves.toBe('900 is more than 500, the most it takes.');
    await expect(epochs.getAttribute('aria-invalid')).resolves.toBe('true');
    await epochs.fill('0');
    await expect(problemOf('Epochs')).resolves.toBe('0 is less than 1, the least it takes.');
    await epochs.fill('2.5');
    await expect(problemOf('Epochs')).resolves.toBe('2.5 is not a whole number: type one.');
    await epochs.fill('3');
    await expect(epochs.getAttribute('aria-invalid')).resolves.toBeNull();

    // A slip in the folded settings: Start opens them and goes to the field.
    await form.getByText('Advanced settings').click();
    await form.getByLabel('Validation share').fill('95');
    await expect(problemOf('Validation share')).resolves.toBe('95 % is more than 90 %, the most it takes.');
    await form.getByText('Advanced settings').click();
    await expect(form.getByLabel('Validation share').isVisible()).resolves.toBe(false);
    const start = form.getByRole('button', { name: 'Start training' });
    await page.waitForFunction(
      '!document.querySelector(\'form[aria-label="Training configuration"] button[type=submit]\')?.disabled',
    );
    await start.click();
    await form
      .getByRole('alert')
      .filter({ hasText: 'A setting is out of its range: fix the values marked in red, then start again.' })
      .waitFor();
    await expect(
      form.getByLabel('Validation share').evaluate((field) => field === field.ownerDocument.activeElement),
    ).resolves.toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'slips-out-of-range.png'), fullPage: true });
    expect(posted).toEqual([]);
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('says "✓ Copied" and what it copied, and wraps the code snippets on a phone', async () => {
    await page.goto(`/projects/${project.id}/iterations/${await importTinyModel()}`);
    // A file that is no photo, named as one: the quick test says which file it could not read.
    const quickTest = page.getByRole('region', { name: 'Quick test' });
    await quickTest
      .getByLabel('Drop a photo here or choose one')
      .setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('shopping list: pine cones') });
    const refused = (await quickTest.getByRole('alert').textContent())!;
    expect(refused).toMatch(/^notes\.png: /);
    // What to send instead: the formats and sizes taken.
    expect(refused).toMatch(
      /Choose a photo in JPEG, PNG, WebP, AVIF, TIFF, GIF or HEIC, at most \d+ MiB and [\d.]+ million pixels\.$/,
    );
    await quickTest.screenshot({ path: join(SCREENSHOTS, 'slips-quick-test-refused.png') });
    await page.getByRole('link', { name: 'Deploy this iteration' }).click();
    // What deploying does, before the first deployment: a bare iteration and name field said nothing of it.
    await page
      .getByRole('form', { name: 'Deploy an iteration' })
      .getByText(
        'A deployment gives an iteration a prediction URL and a key: your apps send photos there and get its ' +
          'predictions back. Try it here once deployed.',
      )
      .waitFor();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    const key = (await page.getByTestId('deployment-key').textContent())!;
    const deployment = page.getByRole('article', { name: /^Deployment / });
    const name = (await deployment.getAttribute('aria-label'))!.replace('Deployment ', '');
    await deployment.getByRole('button', { name: 'Copy key' }).click();
    await deployment.getByRole('button', { name: '✓ Copied' }).waitFor();
    await deployment.getByText(`The key of ${name} is on the clipboard.`).waitFor();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(key);

    await deployment.getByText('Call it from code').click();
    const python = deployment.getByRole('figure').filter({ hasText: /^Python/ });
    await python.getByRole('button', { name: 'Copy' }).click();
    await python.getByRole('button', { name: '✓ Copied' }).waitFor();
    await python.getByText('The Python snippet is on the clipboard.').waitFor();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(
      await python.locator('pre').textContent(),
    );
    // The other snippets were not copied, and say nothing.
    await expect(deployment.getByRole('button', { name: '✓ Copied' }).count()).resolves.toBe(2);

    // On a phone the snippets wrap their long lines (the key, the endpoint) instead of hiding them past the edge.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction('document.documentElement.scrollWidth <= 390');
    const cut = await deployment
      .locator('.snippets pre')
      .evaluateAll((blocks) => blocks.filter((block) => block.scrollWidth > block.clientWidth).length);
    expect(cut).toBe(0);
    // They take the card's whole width (a figure's default 40-pixel indents left a phone a narrow column).
    const indents = await deployment
      .locator('.snippets')
      .evaluate((snippets) =>
        [...snippets.querySelectorAll('pre')].map(
          (block) => block.getBoundingClientRect().left - snippets.getBoundingClientRect().left,
        ),
      );
    expect(indents.every((indent) => indent < 4)).toBe(true);
    await python.screenshot({ path: join(SCREENSHOTS, 'slips-snippet-phone.png') });
    await page.screenshot({ path: join(SCREENSHOTS, 'slips-deploy-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    await deployment.getByRole('button', { name: 'I have saved it' }).click();

    // A later visit: the key is not shown again, yet the owner can try the deployed model with their login,
    // without rotating the key (which would break the apps using it).
    await page.reload();
    await deployment.getByText(/shown only once, when deployed\. Rotate it only if it is lost or leaked/).waitFor();
    const withoutKey = deployment.getByRole('region', { name: 'Quick test' });
    await withoutKey.getByText(/^No key at hand\? Test iteration \d+, the model this deployment serves/).waitFor();
    const [red] = await colouredSquares(RED, 1, 12);
    await withoutKey
      .getByLabel('Drop a photo to test with your login, or choose one')
      .setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: red });
    await withoutKey.getByRole('list', { name: 'Predictions' }).getByRole('listitem').first().waitFor();
    expect(harness.problems(QUICK_TEST_REFUSED)).toEqual([]);
  }, 90_000);

  it('fits the dataset, an image and the training form on a phone, every control within reach', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // The project types' long descriptions wrap beside their radio buttons, never under them.
    await page.goto('/');
    const typeChoices = page.getByRole('group', { name: 'Type' }).locator('label');
    await expect(
      typeChoices.evaluateAll((labels) =>
        labels.map((label) => {
          const radio = label.querySelector('input')!.getBoundingClientRect();
          const lines = [...label.querySelector('span')!.getClientRects()];
          return lines.length > 0 && lines.every((line) => line.left >= radio.right);
        }),
      ),
    ).resolves.toEqual([true, true, true]);
    for (const [path, ready, shot] of [
      [`/projects/${project.id}/dataset?show=unlabeled`, () => cell('pic-a-0.png').waitFor(), 'dataset'],
      [
        `/projects/${project.id}/images/${ids.get('Cherry-0.png')}?label=${project.labels.Cherry}`,
        () => page.getByRole('heading', { name: 'Cherry-0.png' }).waitFor(),
        'image',
      ],
      [`/projects/${project.id}/train`, () => page.getByLabel('Epochs').waitFor(), 'train'],
    ] as const) {
      await page.goto(path);
      await ready();
      await page.waitForFunction('document.documentElement.scrollWidth <= 390', undefined, { timeout: 5000 });
      // Tables and the project's tabs scroll sideways on their own; every other control lies within the screen.
      const outside = await page.evaluate(`
        [...document.querySelectorAll('main button, main select, main input, main textarea, main a')]
          .filter((element) => element.checkVisibility() && !element.closest('table, nav[aria-label="Project"]'))
          .filter((element) => element.getBoundingClientRect().left < 0 || element.getBoundingClientRect().right > 390)
          .map((element) => element.outerHTML.slice(0, 120))`);
      expect(outside).toEqual([]);
      await page.screenshot({ path: join(SCREENSHOTS, `slips-${shot}-phone.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(harness.problems(QUICK_TEST_REFUSED)).toEqual([]);
  }, 60_000);

  it('goes on to the next filtered image after the filtered label is taken off the one shown', async () => {
    const colours = await client.createProject('multilabel', ['red', 'blue'], 'colours');
    await client.upload(colours.id, await colouredSquares(RED, 3, 9), { labels: JSON.stringify(['red']) }, 'red');
    await page.goto(`/projects/${colours.id}/dataset?label=${colours.labels.red}`);
    await cell('red-0.png').dblclick();
    await page.getByRole('heading', { name: 'red-0.png' }).waitFor();
    const images = page.getByRole('navigation', { name: 'Images' });
    await images.getByText('1 of 3', { exact: true }).waitFor();
    // The slip: the label the list is filtered by, taken off. The page says so, and Next still goes on.
    await page.keyboard.press('1');
    const labelsOfImage = page.getByRole('group', { name: 'Labels', exact: true });
    await labelsOfImage
      .getByRole('status')
      .filter({ hasText: /^Labels: none yet$/ })
      .waitFor();
    await images.getByText('No longer in the filtered images: Next goes on with them.').waitFor();
    await expect(images.getByRole('button', { name: 'Previous' }).isDisabled()).resolves.toBe(true);
    await images.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'red-1.png' }).waitFor();
    await images.getByText('1 of 2', { exact: true }).waitFor();
    expect(harness.problems(QUICK_TEST_REFUSED)).toEqual([]);
  }, 60_000);

  it('uploads photos with the label chosen for them, or none, and names a file that is not a photo', async () => {
    const birds = await client.createProject('classification', ['Robin', 'Wren'], 'birds');
    await page.goto(`/projects/${birds.id}/dataset`);
    const upload = page.getByRole('region', { name: 'Upload images' });
    const chooser = upload.getByLabel('Label for the photos uploaded (optional)');
    await expect(chooser.locator('option:checked').textContent()).resolves.toBe('None: label them afterwards');
    const [red, blue] = [await colouredSquares(RED, 1, 7), await colouredSquares(BLUE, 1, 8)];
    const files = page.getByLabel('Images or zip archives to upload');
    await files.setInputFiles({ name: 'first.png', mimeType: 'image/png', buffer: red[0] });
    await cell('first.png').waitFor();
    await chooser.selectOption({ label: 'Wren' });
    await files.setInputFiles([
      { name: 'second.png', mimeType: 'image/png', buffer: blue[0] },
      { name: 'diary.png', mimeType: 'image/png', buffer: Buffer.from('not a photo at all') },
    ]);
    await upload.getByRole('status').filter({ hasText: '1 uploaded as Wren, 1 rejected.' }).waitFor();
    await expect(
      upload.getByRole('list', { name: 'Files that were not uploaded' }).getByRole('listitem').textContent(),
    ).resolves.toMatch(/^diary\.png: /);
    await grid()
      .getByRole('option', { name: /^second\.png, Wren,/ })
      .waitFor();
    await grid()
      .getByRole('option', { name: /^first\.png, unlabeled,/ })
      .waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'slips-upload-with-label.png'), fullPage: true });
    expect(harness.problems(QUICK_TEST_REFUSED)).toEqual([]);
  }, 60_000);

  it('clears the refusal of a test on the empty test split once a test on photos from this computer ran', async () => {
    await page.goto(`/projects/${project.id}/iterations/${await importTinyModel()}`);
    const testRuns = page.locator('.card').filter({ has: page.getByRole('heading', { name: 'Test runs' }) });
    await testRuns.getByRole('button', { name: 'Test on the test split' }).click();
    const refused = testRuns.getByRole('alert').filter({ hasText: 'in the test split yet' });
    await refused.waitFor();
    const testSet = page.getByRole('form', { name: 'Test on labeled photos' });
    const [red] = await colouredSquares(RED, 1, 11);
    await testSet
      .getByLabel('Photos of “Hemlock”')
      .setInputFiles({ name: 'held-out.png', mimeType: 'image/png', buffer: red });
    await testSet.getByRole('button', { name: 'Test on 1 photo' }).click();
    await testRuns.getByRole('table', { name: 'Test runs' }).getByRole('cell', { name: 'your computer' }).waitFor();
    // The run that went through is not shown under the refusal of the one before.
    await expect(refused.count()).resolves.toBe(0);
    expect(harness.problems([...QUICK_TEST_REFUSED, /status of 422/])).toEqual([]);
  }, 60_000);

  it('shows the photo of a project without labels yet, and where to add them, rather than a page without it', async () => {
    for (const type of ['detection', 'classification'] as const) {
      const unlabeled = await client.createProject(type, [], `no labels ${type}`);
      const [photo] = await client.upload(unlabeled.id, await colouredSquares(RED, 1, 12), {}, 'first-photo');
      await page.goto(`/projects/${unlabeled.id}/images/${photo.id!}`);
      await page.getByRole('img', { name: photo.filename }).waitFor();
      await page
        .getByText(
          `This project has no labels yet. Add labels on the Dataset tab, then come back to ${type === 'detection' ? 'draw a box around each object' : 'label this image'}.`,
        )
        .waitFor();
      await page.getByRole('link', { name: 'Add labels' }).click();
      await page.getByLabel('New label').waitFor();
    }
    expect(harness.problems([...QUICK_TEST_REFUSED, /status of 422/])).toEqual([]);
  }, 60_000);
});
