import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Dialog, Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { BLUE, RED, colouredSquares } from '../support/generated-images.js';
import { modelZip, tinyClassifier } from '../support/tiny-models.js';

/** Settings a user reaches for once a dataset grows: a negative label, the project type, a key kept on screen. */
describe('console: negative labels, project type, image totals, one-time secrets', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'feeder-watcher');
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  /** The next question the page asks (a confirm, or the browser's own before unloading), answered `accept`. */
  const nextDialog = (accept: boolean) =>
    new Promise<Dialog>((resolve) =>
      page.once('dialog', (dialog) => {
        void (accept ? dialog.accept() : dialog.dismiss()).then(() => resolve(dialog));
      }),
    );

  it('adds a negative label, refuses a second one in words, makes it regular again, and says what it is for', async () => {
    const project = await client.createProject('classification', ['sparrow', 'finch'], 'feeder');
    await page.goto(`/projects/${project.id}/settings`);
    await page.getByText('A negative label marks photos that show none of the other labels').waitFor();

    await page.getByLabel('New label').fill('empty');
    // The box and its word are apart, not glued together as "☐Negative".
    await expect(
      page.getByRole('checkbox', { name: 'Negative' }).evaluate((box) => {
        const word = box.ownerDocument.createRange();
        word.selectNodeContents(box.parentElement!);
        word.setStartAfter(box);
        return word.getBoundingClientRect().left - box.getBoundingClientRect().right;
      }),
    ).resolves.toBeGreaterThanOrEqual(4);
    await page.getByRole('checkbox', { name: 'Negative' }).check();
    await page.getByRole('button', { name: 'Add label' }).click();
    const chip = page.locator('.chip').filter({ hasText: 'empty' });
    await chip.getByText('negative', { exact: true }).waitFor();
    // The badge stands apart from the label's name.
    const gap = await chip.evaluate((element) => {
      const name = [...element.childNodes].find((node) => node.textContent?.includes('empty'))!;
      const range = element.ownerDocument.createRange();
      range.selectNodeContents(name);
      const nameEnd = range.getBoundingClientRect().right;
      return element.querySelector('.badge')!.getBoundingClientRect().left - nameEnd;
    });
    expect(gap).toBeGreaterThanOrEqual(4);
    await expect(page.getByRole('checkbox', { name: 'Negative' }).isChecked()).resolves.toBe(false);
    await page
      .locator('.card')
      .filter({ hasText: 'Labels' })
      .first()
      .screenshot({
        path: join(SCREENSHOTS, 'labels-negative.png'),
      });
    // Only the negative label offers to become regular: a project has one.
    await expect(page.getByRole('button', { name: 'Make negative: sparrow' }).count()).resolves.toBe(0);

    await page.getByLabel('New label').fill('nothing');
    await page.getByRole('checkbox', { name: 'Negative' }).check();
    await page.getByRole('button', { name: 'Add label' }).click();
    await page.getByRole('alert').filter({ hasText: `The project's negative label is "empty" already` }).waitFor();

    await page.getByRole('button', { name: 'Make regular: empty' }).click();
    await page.getByRole('button', { name: 'Make negative: empty' }).waitFor();
    await expect(chip.getByText('negative', { exact: true }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Make negative: sparrow' }).click();
    await page.locator('.chip').filter({ hasText: 'sparrow' }).getByText('negative', { exact: true }).waitFor();
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    // The dataset page, where a new user labels photos, shows the badge and leads to these controls.
    await page.goto(`/projects/${project.id}/dataset`);
    await page.locator('.chip').filter({ hasText: 'sparrow' }).getByText('negative', { exact: true }).waitFor();
    await expect(page.getByRole('button', { name: /^Make (negative|regular):/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('checkbox', { name: 'Negative' }).count()).resolves.toBe(0);
    await page.getByRole('link', { name: 'negative label and project type' }).click();
    await page.getByRole('button', { name: 'Make regular: sparrow' }).waitFor();
  }, 60_000);

  it('speaks of negative labels on the dataset page only once there are labels to tell them from', async () => {
    const project = await client.createProject('classification', [], 'first labels');
    await page.goto(`/projects/${project.id}/dataset`);
    await page.getByText('Start by adding the labels your model should learn, then upload photos.').waitFor();
    // 'Photos of none of these labels…' under no label at all puzzled a new user who had not added one yet.
    await expect(page.getByText('Photos of none of these labels').count()).resolves.toBe(0);
    await page.getByLabel('New label').fill('sparrow');
    await page.getByRole('button', { name: 'Add label' }).click();
    await page.getByRole('link', { name: 'negative label and project type' }).waitFor();
    // The refusal of a second negative label, in the test before, is expected.
    expect(harness.problems([/status of (400|409)/])).toEqual([]);
  });

  it('switches classification ↔ multilabel, naming as links the images that stand in the way', async () => {
    const project = await client.createProject('classification', ['sparrow', 'finch'], 'two birds');
    await page.goto(`/projects/${project.id}/settings`);
    const type = page.getByRole('group', { name: 'Project type' });
    await type.getByRole('button', { name: 'Make it a multilabel project' }).click();
    await type.getByText('Now a multilabel project.').waitFor();

    const [both] = await client.upload(
      project.id,
      await colouredSquares(RED, 1, 7),
      { labels: JSON.stringify(['sparrow', 'finch']) },
      'both-birds',
    );
    // A label on an image with another cannot become negative: the image is named, to fix it.
    await page.getByRole('button', { name: 'Make negative: sparrow' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'together with other labels' });
    await refusal.getByRole('link', { name: 'both-birds-0.png (sparrow, finch)' }).waitFor();

    await type.getByRole('button', { name: 'Make it a classification project' }).click();
    const severalLabels = type.getByRole('alert');
    await severalLabels.getByText(/a classification project takes one label per image/).waitFor();
    await severalLabels.getByText('1 image to fix:').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'project-type-refused.png'), fullPage: true });
    await severalLabels.getByRole('link', { name: 'both-birds-0.png (sparrow, finch)' }).click();
    await page.waitForURL(`**/projects/${project.id}/images/${both.id}`);

    await client.http
      .post(`/v1/projects/${project.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: both.id, labels: [project.labels.finch] }] })
      .expect(200);
    await page.getByRole('link', { name: 'Settings' }).click();
    await type.getByRole('button', { name: 'Make it a classification project' }).click();
    await type.getByText('Now a classification project.').waitFor();
    await type.getByText('This is a classification project').waitFor();

    const detection = await client.createProject('detection', ['bird'], 'boxes');
    await page.goto(`/projects/${detection.id}/settings`);
    await type.getByText('A detection project stays one').waitFor();
    await expect(page.getByRole('checkbox', { name: 'Negative' }).count()).resolves.toBe(0);
    expect(harness.problems([/status of (400|409)/])).toEqual([]);
  }, 60_000);

  it('says how many images the filter matches while the grid shows the first page', async () => {
    const project = await client.createProject('classification', ['red', 'green'], 'many');
    await client.upload(project.id, await colouredSquares(RED, 203, 11, 8), { label: project.labels.red }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 3, 12, 8), { label: project.labels.green }, 'green');
    await page.goto(`/projects/${project.id}`);
    const status = page.getByRole('toolbar', { name: 'Selected images' }).getByRole('status').first();
    await status.filter({ hasText: /^1–200 of 206 images$/ }).waitFor();
    await page.goto(`/projects/${project.id}?label=${project.labels.green}`);
    await status.filter({ hasText: /^3 images$/ }).waitFor();
  }, 60_000);

  it('keeps a new token and a new deployment key on screen, asking before leaving, until the user saved them', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByLabel('Token name').fill('nightly');
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = page.getByRole('group', { name: 'The token nightly, shown once' });
    const token = (await shown.locator('code').textContent())!;
    expect(token).toMatch(/^dml_/);

    // A link of the console asks first; staying keeps the token on screen.
    const asked = nextDialog(false);
    await page.getByRole('link', { name: 'Projects' }).first().click();
    expect((await asked).message()).toBe(
      'The token nightly is shown only this once and has not been saved. Leave anyway? It cannot be shown again.',
    );
    await expect(shown.locator('code').textContent()).resolves.toBe(token);
    // Reloading or closing the tab: the browser's own question.
    const unloading = nextDialog(false);
    await page.close({ runBeforeUnload: true });
    expect((await unloading).type()).toBe('beforeunload');
    await expect(shown.locator('code').textContent()).resolves.toBe(token);

    await shown.getByRole('button', { name: 'I have saved it' }).click();
    await page.getByText(/^The token nightly is saved, you said; it starts dml_/).waitFor();
    await page.getByRole('link', { name: 'Projects' }).first().click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();

    // A deployment key, and the quick test's answer to a file that is no picture.
    const project = await client.createProject('classification', ['red', 'green'], 'deployed');
    await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'green'])), 'model.zip')
      .expect(201);
    await page.goto(`/projects/${project.id}/deploy`);
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    const key = page.getByRole('group', { name: 'The key of production, shown once' });
    await key.getByTestId('deployment-key').waitFor();
    await page
      .getByLabel('Drop a photo here or choose one')
      .setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('shopping list: seeds') });
    const refused = page.getByRole('article', { name: 'Deployment production' }).getByRole('alert');
    await expect(refused.textContent()).resolves.toMatch(
      /^notes\.png: this file cannot be used, .+\. Choose a photo in JPEG, PNG, WebP, AVIF, TIFF, GIF or HEIC, at most 32 MiB and 52 million pixels\.$/,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'deployment-key-once.png'), fullPage: true });

    const leaving = nextDialog(false);
    await page.getByRole('link', { name: 'Train' }).click();
    expect((await leaving).message()).toMatch(/^The key of production is shown only this once/);
    await key.getByRole('button', { name: 'I have saved it' }).click();
    await page.getByText(/^The key of production is saved, you said; it starts dpk_/).waitFor();
    await page.getByRole('link', { name: 'Train' }).click();
    await page.waitForURL(`**/projects/${project.id}/train`);
    expect(harness.problems([/status of (400|409)/])).toEqual([]);
  }, 90_000);
});
