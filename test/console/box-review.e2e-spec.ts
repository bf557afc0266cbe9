import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { zipSync } from 'fflate';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { BLUE, RED, squareScenes } from '../support/generated-images.js';
import { deployTinyDetector } from '../support/deployed-tiny-model.js';
import { deleteEveryBox, drawBox } from './box-drawing.js';

type Region = { label: { name: string }; x: number; y: number; width: number; height: number };

/**
 * A detector's boxes are corrected before they become labels: a label suggestion before it is accepted, a stored
 * prediction before it is added to the dataset (move, resize, relabel, delete, draw, in the dataset's box editor).
 */
describe('console: correcting boxes of suggestions and stored predictions', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;
  let project: { id: string };
  let iterationId: string;
  let deployment: { id: string; apiKey: string };
  let uploaded: { filename: string; id?: string }[];
  const regionsOf = async (imageId: string) =>
    (
      await client.http
        .get(`/v1/projects/${project.id}/images/${imageId}`)
        .set('Authorization', client.auth)
        .expect(200)
    ).body.regions as Region[];

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'box-reviewer');
    project = await client.createProject('detection', ['red', 'blue'], 'squares');
    uploaded = await client.upload(
      project.id,
      (await squareScenes([RED, BLUE], 2, 21)).map((scene) => scene.png),
      {},
      'scene',
    );
    ({ iterationId, deployment } = await deployTinyDetector(client, project.id, ['red', 'blue'], 'boxes'));
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('corrects the boxes of a suggestion before accepting it, then goes on with the next photo', async () => {
    await page.goto(`/projects/${project.id}/suggestions`);
    await page.getByRole('button', { name: 'Suggest labels for unlabeled images' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /of 2 images got suggestions\.$/ })
      .waitFor({ timeout: 90_000 });
    const suggestions = page.getByRole('list', { name: 'Suggestions' });
    // File names come with the suggestions.
    await suggestions.getByRole('listitem', { name: /^scene-0\.png: / }).waitFor();
    await page.getByRole('button', { name: 'Correct boxes of scene-0.png' }).click();
    const review = page.getByRole('region', { name: 'Boxes of scene-0.png' });
    await review.getByRole('img', { name: 'scene-0.png' }).waitFor();
    await page.waitForFunction("(document.querySelector('.box-correction .box-editor img')?.naturalHeight ?? 0) > 0");
    await review.getByRole('application').waitFor();
    // The surface boxes are drawn on covers the photo exactly (the boxes sit where they are on the photo).
    const [surface, photo] = [
      await review.getByRole('application').boundingBox(),
      await review.getByRole('img', { name: 'scene-0.png' }).boundingBox(),
    ];
    expect([surface!.x, surface!.y, surface!.width, surface!.height].map(Math.round)).toEqual(
      [photo!.x, photo!.y, photo!.width, photo!.height].map(Math.round),
    );

    await deleteEveryBox(page);
    await drawBox(page, { x: 0.1, y: 0.2, width: 0.3, height: 0.4 });
    await review.getByRole('list', { name: 'Boxes' }).getByRole('listitem').first().waitFor();
    // The drawn box is selected: 2 makes it "blue", the right arrow moves it by 1%, Shift+down makes it 1% taller.
    await page.getByRole('application').focus();
    await page.keyboard.press('2');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowDown');
    await review.getByRole('list', { name: 'Boxes' }).getByRole('button', { name: 'blue' }).waitFor();
    await suggestions
      .getByRole('listitem', { name: /^scene-0\.png: / })
      .getByText('corrected')
      .waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'suggestion-boxes.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    await review.getByRole('button', { name: 'Accept these boxes and review the next' }).click();
    await page.getByRole('status').filter({ hasText: '1 accepted.' }).waitFor();
    await page.getByRole('region', { name: 'Boxes of scene-1.png' }).waitFor();
    const [region, ...others] = await regionsOf(uploaded[0].id!);
    expect(others).toEqual([]);
    expect(region.label.name).toBe('blue');
    expect(region.x).toBeCloseTo(0.11, 1);
    expect(region.y).toBeCloseTo(0.2, 1);
    expect(region.width).toBeCloseTo(0.3, 1);
    expect(region.height).toBeCloseTo(0.41, 1);
    await page.getByRole('button', { name: 'Close' }).click();
    await page.waitForFunction(`document.querySelectorAll('[aria-label="Suggestions"] > li').length === 1`);
    expect(harness.problems()).toEqual([]);
  }, 180_000);

  it('corrects the boxes of a stored prediction before adding it to the dataset', async () => {
    await client.http
      .put(`/v1/projects/${project.id}/deployments/${deployment.id}/prediction-store`)
      .set('Authorization', client.auth)
      .send({ enabled: true })
      .expect(200);
    const [scene] = await squareScenes([RED], 1, 31);
    // Every box the model proposes, however improbable: the store keeps them all.
    const answered = await client.http
      .post(`/v1/predict/${deployment.id}?threshold=0`)
      .set('X-Api-Key', deployment.apiKey)
      .set('Content-Type', 'image/png')
      .send(scene.png)
      .expect(200);
    const likely = (answered.body.predictions as { probability: number }[]).filter(
      (prediction) => prediction.probability >= 0.5,
    ).length;
    expect(answered.body.predictions.length).toBeGreaterThan(likely);

    await page.goto(`/projects/${project.id}/predictions`);
    const stored = page.getByRole('list', { name: 'Stored predictions' });
    await stored.getByRole('img', { name: 'The photo sent' }).waitFor();
    // The card draws the boxes adding it to the dataset would keep (at least 50 %), as its correction starts from.
    await expect(stored.locator('.predicted-box').count()).resolves.toBe(likely);
    await stored.getByRole('button', { name: /^Correct boxes of the photo of / }).click();
    const review = page.getByRole('region', { name: /^Boxes of the photo of / });
    await review.getByRole('img', { name: /^the photo of / }).waitFor();
    await expect(review.getByRole('list', { name: 'Boxes' }).getByRole('listitem').count()).resolves.toBe(likely);
    await deleteEveryBox(page);
    const [expected] = scene.boxes;
    await drawBox(page, expected);
    await review.getByRole('list', { name: 'Boxes' }).getByRole('listitem').first().waitFor();
    await page.getByRole('application').focus();
    await page.keyboard.press('1');
    await stored.getByText('1 corrected box').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'stored-prediction-boxes.png'), fullPage: true });

    await review.getByRole('button', { name: 'Add to the dataset with these boxes' }).click();
    await page.getByRole('status').filter({ hasText: '1 added to the dataset.' }).waitFor();
    const promoted = await stored.getByRole('link', { name: 'in the dataset' }).getAttribute('href');
    const [region, ...others] = await regionsOf(promoted!.split('/').pop()!);
    expect(others).toEqual([]);
    expect(region.label.name).toBe('red');
    for (const side of ['x', 'y', 'width', 'height'] as const) expect(region[side]).toBeCloseTo(expected[side], 1);
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems()).toEqual([]);
  }, 120_000);

  it('says what to do next on the screens of a new project, and reads each training field with its range and default', async () => {
    const fresh = await client.createProject('detection', ['fork'], 'fresh');
    await page.goto(`/projects/${fresh.id}/deploy`);
    await page.getByText('Nothing to deploy yet: only completed iterations can be deployed.').waitFor();
    await expect(page.getByRole('button', { name: 'Deploy' }).count()).resolves.toBe(0);
    await page.getByRole('link', { name: 'Train one' }).click();
    await page.getByText('No iterations yet: start one above once the dataset is ready.').waitFor();
    await expect(page.getByRole('table').count()).resolves.toBe(0);
    const epochs = page.getByLabel('Epochs');
    const description = await page.locator(`[id="${await epochs.getAttribute('aria-describedby')}"]`).textContent();
    expect(description).toMatch(/^How many times training goes through every photo\. .* \(1 to 500 · default \d+\)$/);
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Predictions' }).click();
    await page.getByText('No stored prediction yet.').waitFor();
    // Where to turn the store on is said once, by the empty list, not also in an introduction above it.
    await expect(page.getByText(/prediction store/).count()).resolves.toBe(1);
    // Nothing to filter or act on yet: no filters, no "Add 0 to the dataset".
    await expect(page.getByRole('group', { name: 'Selected predictions' }).count()).resolves.toBe(0);
    await expect(page.getByRole('group', { name: 'Filter predictions' }).count()).resolves.toBe(0);
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it("draws each label's boxes in a colour of its own, the same on every page, with a legend where several show", async () => {
    const [scene] = await squareScenes([RED, BLUE], 1, 41);
    const [image] = await client.upload(project.id, [scene.png], { split: 'test' }, 'two-labels');
    await client.http
      .put(`/v1/projects/${project.id}/images/${image.id}/regions`)
      .set('Authorization', client.auth)
      .send({
        regions: [
          { label: 'red', x: 0.05, y: 0.05, width: 0.4, height: 0.4 },
          { label: 'blue', x: 0.55, y: 0.55, width: 0.4, height: 0.4 },
        ],
      })
      .expect(200);
    const colour = (locator: Locator, property: 'stroke' | 'borderTopColor' | 'backgroundColor') =>
      locator.evaluate((element, name) => element.ownerDocument.defaultView!.getComputedStyle(element)[name], property);

    // Labeling: each box in its label's colour, the list of boxes naming each beside a square of it.
    await page.goto(`/projects/${project.id}/images/${image.id}`);
    const editor = page.locator('.box-editor');
    await editor.locator('.box[data-label="blue"]').waitFor();
    const colours = {
      red: await colour(editor.locator('.box[data-label="red"] rect'), 'stroke'),
      blue: await colour(editor.locator('.box[data-label="blue"] rect'), 'stroke'),
    };
    expect(colours.red).not.toBe(colours.blue);
    const listed = page.getByRole('list', { name: 'Boxes' }).getByRole('listitem');
    for (const label of ['red', 'blue'] as const)
      await expect(colour(listed.filter({ hasText: label }).locator('.swatch'), 'backgroundColor')).resolves.toBe(
        colours[label],
      );

    // A test run: the labeled boxes in the same colours, and a legend saying which is which.
    await page.goto(`/projects/${project.id}/iterations/${iterationId}`);
    await page.getByRole('button', { name: 'Test on the test split' }).click();
    const tested = page.getByRole('list', { name: 'Test predictions' });
    await tested.locator('.expected-box[data-label="blue"]').waitFor({ timeout: 60_000 });
    for (const label of ['red', 'blue'] as const)
      await expect(colour(tested.locator(`.expected-box[data-label="${label}"]`), 'borderTopColor')).resolves.toBe(
        colours[label],
      );
    const legend = page.getByRole('list', { name: 'Box colors' });
    await expect(legend.getByRole('listitem').allTextContents()).resolves.toEqual(['red', 'blue']);
    for (const label of ['red', 'blue'] as const)
      await expect(
        colour(legend.getByRole('listitem').filter({ hasText: label }).locator('.swatch'), 'backgroundColor'),
      ).resolves.toBe(colours[label]);
    await page.screenshot({ path: join(SCREENSHOTS, 'test-run-box-colours.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    // Tried on the deployment: each box the model finds in its label's colour.
    await page.goto(`/projects/${project.id}/deploy`);
    await page.getByLabel('Deployment key').fill(deployment.apiKey);
    await page
      .getByLabel('Drop a photo here or choose one')
      .setInputFiles({ name: 'two-labels.png', mimeType: 'image/png', buffer: scene.png });
    const found = page.locator('.try-it .predicted-box');
    await found.first().waitFor();
    for (const box of await found.all()) {
      const label = (await box.getAttribute('data-label')) as 'red' | 'blue';
      await expect(colour(box, 'borderTopColor')).resolves.toBe(colours[label]);
    }
    // A zip chosen instead of a photo is not sent: the page says where photos in a zip go.
    await page.getByLabel('Drop a photo here or choose one').setInputFiles({
      name: 'shapes.zip',
      mimeType: 'application/zip',
      buffer: Buffer.from(zipSync({ 'a.png': scene.png })),
    });
    await page
      .locator('.try-it')
      .getByRole('alert')
      .filter({
        hasText: 'shapes.zip is a zip, not a photo: choose one photo to try. Photos in a zip go to the dataset',
      })
      .waitFor();
    expect(harness.problems()).toEqual([]);
  }, 120_000);

  it("keeps each label's colour when another label is removed, and gives a new label a colour no other label has", async () => {
    const shapes = await client.createProject('detection', ['first', 'second', 'third'], 'label colours');
    const [scene] = await squareScenes([RED, BLUE], 1, 51);
    const [image] = await client.upload(shapes.id, [scene.png], {}, 'colours');
    const boxes = async (labels: string[]) =>
      client.http
        .put(`/v1/projects/${shapes.id}/images/${image.id}/regions`)
        .set('Authorization', client.auth)
        .send({
          regions: labels.map((label, index) => ({ label, x: 0.05 + index * 0.3, y: 0.1, width: 0.25, height: 0.25 })),
        })
        .expect(200);
    const colours = async () => {
      await page.goto(`/projects/${shapes.id}/images/${image.id}`);
      const editor = page.locator('.box-editor');
      await editor.locator('.box').first().waitFor();
      const seen: Record<string, string> = {};
      for (const box of await editor.locator('.box').all())
        seen[(await box.getAttribute('data-label'))!] = await box
          .locator('rect')
          .first()
          .evaluate((element) => element.ownerDocument.defaultView!.getComputedStyle(element).stroke);
      return seen;
    };
    await boxes(['second', 'third']);
    const before = await colours();

    const settings = async () => {
      await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Settings' }).click();
      return page.getByRole('heading', { name: 'Labels' }).waitFor();
    };
    await settings();
    await page.getByRole('button', { name: 'Remove label first' }).click();
    await page.getByRole('button', { name: 'Remove label first' }).waitFor({ state: 'detached' });
    await page.getByLabel('New label').fill('fourth');
    await page.getByRole('button', { name: 'Add label' }).click();
    await page.getByRole('button', { name: 'Remove label fourth' }).waitFor();
    await boxes(['second', 'third', 'fourth']);

    const after = await colours();
    expect({ second: after.second, third: after.third }).toEqual(before);
    expect(new Set(Object.values(after)).size).toBe(3);
    expect(harness.problems()).toEqual([]);
  }, 60_000);
});
