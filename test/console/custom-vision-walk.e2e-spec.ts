import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { BLUE, RED, colouredSquares, squareScenes } from '../support/generated-images.js';
import { modelZip, tinyClassifier } from '../support/tiny-models.js';
import { drawBox } from './box-drawing.js';

/**
 * What a user coming from Azure Custom Vision looks for on the way from photos to a prediction URL: each label's
 * image count, the prediction URL to copy and where the key goes, the tag on each box drawn, and the same work done
 * with the keyboard alone or on a phone.
 */
describe('console: the Custom Vision quickstart, walked in the console', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;
  let trees: { id: string; labels: Record<string, string> };
  let kitchen: { id: string; labels: Record<string, string> };
  /** The kitchen's photos' ids by file name (scene-0.png …). */
  const scenes = new Map<string, string>();
  const chipCount = (label: string) => page.locator('.chip').filter({ hasText: label }).locator('.chip-count');
  const boxes = () => page.getByRole('list', { name: 'Boxes' }).getByRole('listitem');
  const focusedName = `document.activeElement?.getAttribute('aria-label')`;

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'quickstarter');
    trees = await client.createProject('classification', ['Hemlock', 'Cherry'], 'trees');
    await client.upload(trees.id, await colouredSquares(RED, 3, 1), { label: 'Hemlock' }, 'Hemlock');
    await client.upload(trees.id, await colouredSquares(BLUE, 2, 2), { label: 'Cherry' }, 'Cherry');
    kitchen = await client.createProject('detection', ['fork', 'scissors'], 'kitchen');
    const photos = (await squareScenes([RED], 3, 5, 32)).map((scene) => scene.png);
    for (const image of await client.upload(kitchen.id, photos, {}, 'scene')) scenes.set(image.filename, image.id!);
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it("counts each label's images in its chip", async () => {
    await page.goto(`/projects/${trees.id}/dataset`);
    // As Custom Vision's tag list: how many photos each label has, read out with its unit.
    await expect(chipCount('Hemlock').textContent()).resolves.toBe('3 images');
    await expect(chipCount('Cherry').textContent()).resolves.toBe('2 images');
    await page
      .locator('.card')
      .filter({ hasText: 'Labels' })
      .first()
      .screenshot({ path: join(SCREENSHOTS, 'walk-label-counts.png') });
    expect(harness.problems()).toEqual([]);
  });

  it('names the label an upload gave its photos', async () => {
    await page.goto(`/projects/${trees.id}/dataset`);
    const upload = page.getByRole('region', { name: 'Upload images' });
    await upload.getByLabel('Label for the photos uploaded (optional)').selectOption({ label: 'Cherry' });
    const [blue] = await colouredSquares(BLUE, 1, 3);
    await page
      .getByLabel('Images or zip archives to upload')
      .setInputFiles({ name: 'more-cherry.png', mimeType: 'image/png', buffer: blue });
    // The outcome says which label the photos got, whatever the choice above says by then.
    await upload
      .getByRole('status')
      .filter({ hasText: /^1 uploaded as Cherry\.$/ })
      .waitFor();
    expect(harness.problems()).toEqual([]);
  });

  it('says that training validates on a share of the train images when none is in the validation split', async () => {
    await page.goto(`/projects/${trees.id}/analysis`);
    await page
      .getByText(/train 6, validation 0 \(training holds out 20% of the train images to validate on\), test 0$/)
      .waitFor();
    expect(harness.problems()).toEqual([]);
  });

  it('shows the prediction URL with a button to copy it, and says which header takes the key', async () => {
    const imported = await client.http
      .post(`/v1/projects/${trees.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['Hemlock', 'Cherry'])), 'model.zip')
      .expect(201);
    await page.goto(`/projects/${trees.id}/deploy?iteration=${imported.body.id}`);
    const deployForm = page.getByRole('form', { name: 'Deploy an iteration' });
    await deployForm.getByLabel('Deployment name').fill('trees-prod');
    await deployForm.getByRole('button', { name: 'Deploy', exact: true }).click();
    const prod = page.getByRole('article', { name: 'Deployment trees-prod' });
    await prod.getByRole('button', { name: 'Copy URL' }).click();
    await prod.getByText('The prediction URL of trees-prod is on the clipboard.').waitFor();
    const url = (await prod
      .getByText(/^Prediction URL:/)
      .locator('code')
      .textContent())!;
    expect(url).toMatch(new RegExp(`^${harness.baseUrl}/v1/predict/[0-9a-f-]{36}$`));
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(url);
    await prod.getByText(/with the deployment's key in the X-Api-Key header\.$/).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'walk-prediction-url.png'), fullPage: true });
    await prod.getByRole('button', { name: 'I have saved it' }).click();
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('takes the focus to the new deployment, whose key is to be copied, when Deploy is pressed', async () => {
    const deployForm = page.getByRole('form', { name: 'Deploy an iteration' });
    await deployForm.getByLabel('Deployment name').fill('trees-staging');
    await deployForm.getByRole('button', { name: 'Deploy', exact: true }).press('Enter');
    const staging = page.getByRole('article', { name: 'Deployment trees-staging' });
    await staging.getByTestId('deployment-key').waitFor();
    // The Deploy button was disabled while it worked: the focus is on the new deployment, not lost to the page.
    await page.waitForFunction(`${focusedName} === 'Deployment trees-staging'`);
    // The next Tab reaches what a keyboard user needs of it first, not the top of the page or another deployment.
    await page.keyboard.press('Tab');
    await expect(page.evaluate('document.activeElement?.textContent')).resolves.toBe('Copy URL');
    await expect(page.evaluate(`document.activeElement?.closest('article')?.getAttribute('aria-label')`)).resolves.toBe(
      'Deployment trees-staging',
    );
    await staging.getByRole('button', { name: 'I have saved it' }).click();
    expect(harness.problems()).toEqual([]);
  });

  it("names each deployment's quick test apart, one landmark each", async () => {
    // Without the key (a later visit), each deployment offers a quick test with the login.
    await page.reload();
    for (const name of ['trees-prod', 'trees-staging'])
      await page.getByRole('region', { name: `Quick test of ${name}`, exact: true }).waitFor();
    await expect(page.getByRole('region', { name: 'Quick test', exact: true }).count()).resolves.toBe(0);
    expect(harness.problems()).toEqual([]);
  });

  it('writes the label of each box on the photo, at its top-left corner', async () => {
    await page.goto(`/projects/${kitchen.id}/images/${scenes.get('scene-0.png')}`);
    await drawBox(page, { x: 0.25, y: 0.25, width: 0.5, height: 0.5 });
    await expect(boxes().allTextContents()).resolves.toEqual(['fork at 25%, 25% · 50×50%']);
    // As Custom Vision tags a box: its name where it starts, in its colour, without having to read the list below.
    const tag = page.locator('.box-names span');
    await expect(tag.allTextContents()).resolves.toEqual(['fork']);
    const [photo, name] = [(await page.getByRole('application').boundingBox())!, (await tag.boundingBox())!];
    expect(Math.abs(name.x - (photo.x + photo.width * 0.25))).toBeLessThan(2);
    expect(Math.abs(name.y + name.height - (photo.y + photo.height * 0.25))).toBeLessThan(2);
    // Relabeled, the tag says so.
    await page.keyboard.press('2');
    await expect(tag.allTextContents()).resolves.toEqual(['scissors']);
    await page.screenshot({ path: join(SCREENSHOTS, 'walk-box-names.png'), fullPage: true });
    await page.getByRole('button', { name: 'Save boxes and go to the next image' }).click();
    await page.getByRole('heading', { name: 'scene-1.png' }).waitFor();
    expect(harness.problems()).toEqual([]);
  });

  it('draws a box with the keyboard: N adds one in the middle, to move and resize with the arrows', async () => {
    await page.goto(`/projects/${kitchen.id}/images/${scenes.get('scene-2.png')}`);
    const surface = page.getByRole('application');
    await page.waitForFunction("(document.querySelector('.box-editor img')?.naturalHeight ?? 0) > 0");
    await surface.focus();
    await page.keyboard.press('n');
    await expect(boxes().allTextContents()).resolves.toEqual(['fork at 25%, 25% · 50×50%']);
    // The new box is the selected one: the keys act on it at once.
    await page.keyboard.press('2');
    await page.keyboard.press('Shift+ArrowLeft');
    await expect(boxes().allTextContents()).resolves.toEqual(['scissors at 25%, 25% · 49×50%']);
    await page.getByText(/or press N on it for one in the middle/).waitFor();
    await page.getByRole('button', { name: 'Save boxes and go to the next image' }).click();
    await page.getByText('Unsaved changes').waitFor({ state: 'detached' });
    expect(harness.problems()).toEqual([]);
  });

  it('gives the photo the focus when it is opened with Enter, and again after Save and next', async () => {
    await page.goto(`/projects/${kitchen.id}/dataset`);
    const grid = page.getByRole('listbox', { name: 'Images' });
    await grid.getByRole('option', { name: /^scene-0\.png,/ }).waitFor();
    await grid.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'scene-0.png' }).waitFor();
    // Its keys work at once, without a click on it or a walk of Tabs from the top of the page.
    await page.waitForFunction(`${focusedName}?.startsWith('Boxes on scene-0.png')`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Delete');
    await expect(boxes().count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Save boxes and go to the next image' }).press('Enter');
    await page.getByRole('heading', { name: 'scene-1.png' }).waitFor();
    // The next photo takes the focus the saved one had: N draws on it straight away.
    await page.waitForFunction(`${focusedName}?.startsWith('Boxes on scene-1.png')`);
    await page.keyboard.press('n');
    await expect(boxes().allTextContents()).resolves.toEqual(['fork at 25%, 25% · 50×50%']);
    expect(harness.problems()).toEqual([]);
  });

  it('shows the chosen model type in full on a phone, where a select cut it off', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`/projects/${kitchen.id}/train`);
    const shown = page.locator('.model-type > span');
    await expect(shown.textContent()).resolves.toBe('Pretrained backbone with a new detector (photos)');
    const fits = await shown.evaluate(
      (element) =>
        element.scrollWidth <= element.clientWidth &&
        element.getBoundingClientRect().right <= element.ownerDocument.documentElement.clientWidth,
    );
    expect(fits).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'walk-model-type-phone.png') });
    // The select still does the choosing, and the words follow it.
    await page.getByLabel('Model type').selectOption('tiny-detector');
    await expect(shown.textContent()).resolves.not.toBe('Pretrained backbone with a new detector (photos)');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(harness.problems()).toEqual([]);
  });
});
