import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { BLUE, colouredSquares, RED } from '../support/generated-images.js';
import { modelZip, tinyClassifier } from '../support/tiny-models.js';
import { drawBox } from './box-drawing.js';

// What a newcomer found silent or obscure: an upload that showed a full bar and nothing more while the server checked
// the photos, a Save (or a label) that went on to the next photo, or stayed on the last one, without a word, a text
// file tested and refused in words about Content-Type headers, and a digit pressed after Select all that did nothing.
describe('console: saying what happened', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'told-user');
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('says in words that an upload runs, until it says what it took', async () => {
    const project = await client.createProject('classification', ['Hemlock', 'Japanese Cherry'], 'trees told');
    await page.goto(`/projects/${project.id}/dataset`);
    // The server's answer held back, as a busy server's would be, to read what the page says meanwhile.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    await page.route(`**/v1/projects/${project.id}/images`, async (route) => {
      if (route.request().method() === 'POST') await answered;
      await route.continue();
    });
    const upload = page.getByRole('region', { name: 'Upload images' });
    await upload.getByLabel('Label for the photos uploaded (optional)').selectOption({ label: 'Hemlock' });
    await page.getByLabel('Images or zip archives to upload').setInputFiles(
      (await colouredSquares(RED, 2, 5)).map((buffer, index) => ({
        name: `hemlock-${index}.png`,
        mimeType: 'image/png',
        buffer,
      })),
    );
    await upload
      .getByRole('status')
      .filter({ hasText: /^(Sending 2 files: \d+%…|Sent: the server is checking 2 files…)$/ })
      .waitFor();
    answer();
    await upload
      .getByRole('status')
      .filter({ hasText: /^2 uploaded as Hemlock\.$/ })
      .waitFor();
    await expect(upload.getByRole('status').allTextContents()).resolves.toEqual(['2 uploaded as Hemlock.']);
    await page.unroute(`**/v1/projects/${project.id}/images`);
    expect(harness.problems()).toEqual([]);
  });

  it('says which photo got which label when labeling goes on to the next one', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'labeled one by one');
    await client.upload(project.id, await colouredSquares(BLUE, 2, 6), {}, 'leaf');
    await page.goto(`/projects/${project.id}/dataset`);
    await page.getByRole('listbox', { name: 'Images' }).getByRole('option').first().dblclick();
    const first = (await page.getByRole('heading', { level: 2 }).textContent())!;
    await page.getByRole('group', { name: 'Label' }).getByRole('button', { name: 'blue' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Labeled ${first} as blue.` })
      .waitFor();
    await expect(page.getByRole('heading', { level: 2 }).textContent()).resolves.not.toBe(first);
    expect(harness.problems()).toEqual([]);
  });

  it('labels every image at once with a digit pressed right after Select all', async () => {
    const project = await client.createProject('classification', ['Hemlock', 'Japanese Cherry'], 'all at once');
    await client.upload(project.id, await colouredSquares(BLUE, 3, 8), {}, 'cherry');
    await page.goto(`/projects/${project.id}/dataset`);
    await page.getByRole('button', { name: 'Select all' }).click();
    // The grid has the focus, where a digit labels the selection: it no longer stays on the button, deaf to keys.
    await page.keyboard.press('2');
    const toolbar = page.getByRole('toolbar', { name: 'Selected images' });
    await toolbar.getByRole('status').filter({ hasText: 'Labeled 3 images as Japanese Cherry.' }).waitFor();
    const images = await client.http.get(`/v1/projects/${project.id}/images`).set('Authorization', client.auth);
    expect((images.body.items as { label: { name: string } | null }[]).map((image) => image.label?.name)).toEqual([
      'Japanese Cherry',
      'Japanese Cherry',
      'Japanese Cherry',
    ]);
    expect(harness.problems()).toEqual([]);
  });

  it('says how many boxes were saved on which photo, and when that photo was the last', async () => {
    const project = await client.createProject('detection', ['fork', 'scissors'], 'kitchen told');
    await client.upload(project.id, await colouredSquares(RED, 2, 7, 64), {}, 'table');
    await page.goto(`/projects/${project.id}/dataset`);
    await page.getByRole('listbox', { name: 'Images' }).getByRole('option').first().dblclick();
    const heading = page.getByRole('heading', { level: 2 });
    const first = (await heading.textContent())!;
    await drawBox(page, { x: 0.2, y: 0.2, width: 0.5, height: 0.5 });
    const save = page.getByRole('button', { name: 'Save boxes and go to the next image' });
    await save.click();
    await page
      .getByRole('status')
      .filter({ hasText: `Saved 1 box on ${first}.` })
      .waitFor();
    const last = (await heading.textContent())!;
    expect(last).not.toBe(first);

    // The last photo: Save keeps it shown, and says so rather than seeming to do nothing.
    await drawBox(page, { x: 0.1, y: 0.1, width: 0.3, height: 0.3 });
    await drawBox(page, { x: 0.5, y: 0.5, width: 0.3, height: 0.3 });
    await save.click();
    await page
      .getByRole('status')
      .filter({
        hasText: `Saved 2 boxes on ${last}. That was the last image: back to all images with the link above.`,
      })
      .waitFor();
    await expect(heading.textContent()).resolves.toBe(last);
    await page.getByText('Unsaved changes').waitFor({ state: 'detached' });
    const regions = await client.http
      .get(`/v1/projects/${project.id}/images`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(
      (regions.body.items as { filename: string; regions: unknown[] }[])
        .map((image) => [image.filename, image.regions.length])
        .sort(),
    ).toEqual([first, last].sort().map((name) => [name, name === first ? 1 : 2]));
    await page.screenshot({ path: join(SCREENSHOTS, 'saved-last-image.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it("reads a chosen file's bytes to say it is no photo, and tests a photo whatever type its name gives it", async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'tried files');
    const imported = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    await page.goto(`/projects/${project.id}/iterations/${imported.body.id}`);
    const quickTest = page.getByRole('region', { name: 'Quick test' });
    const picker = quickTest.getByLabel('Drop a photo here or choose one');
    // A text file: said in the words of a photo that cannot be used, not the API's about Content-Type headers.
    await picker.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
    await quickTest
      .getByRole('alert')
      .filter({
        hasText:
          'notes.txt: this file cannot be used, its bytes are not a picture this server can read. Choose a photo in JPEG',
      })
      .waitFor();
    // A photo whose name gives it a text type is still a photo: its bytes decide, as for an upload.
    const [red] = await colouredSquares(RED, 1, 9);
    await picker.setInputFiles({ name: 'red.txt', mimeType: 'text/plain', buffer: red });
    await quickTest.getByRole('list', { name: 'Predictions' }).getByRole('listitem').first().waitFor();
    await expect(quickTest.getByRole('alert').count()).resolves.toBe(0);
    expect(harness.problems([/status of 400/])).toEqual([]);
  });
});
