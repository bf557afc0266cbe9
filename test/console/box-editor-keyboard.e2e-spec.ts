import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { RED, squareScenes } from '../support/generated-images.js';
import { drawBox } from './box-drawing.js';

/** The box editor by keyboard: reach every box, act on the one picked in the list, and leave without a trap. */
describe('console: box editor with the keyboard', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;
  let project: { id: string };
  const boxes = () => page.getByRole('list', { name: 'Boxes' }).getByRole('listitem');
  /** The text of the box the editor has selected, or null. */
  const selectedBox = async () => {
    const selected = page.getByRole('list', { name: 'Boxes' }).locator('li[aria-current="true"]');
    return (await selected.count()) ? selected.textContent() : null;
  };
  const focusedRole = () => page.evaluate('document.activeElement?.getAttribute("role") ?? null');

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'box-keyboarder');
    project = await client.createProject('detection', ['red', 'blue'], 'squares');
    await client.upload(
      project.id,
      (await squareScenes([RED], 2, 5, 32)).map((scene) => scene.png),
      {},
      'scene',
    );
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('acts on a box picked in the list at once, and Tab goes through the boxes, then out of the photo', async () => {
    await page.goto(`/projects/${project.id}`);
    await page
      .getByRole('listbox', { name: 'Images' })
      .getByRole('option', { name: /^scene-0\.png,/ })
      .dblclick();
    await page.getByRole('heading', { name: 'scene-0.png' }).waitFor();
    // An image of the dataset is under the Dataset tab, which says so.
    await expect(
      page.getByRole('navigation', { name: 'Project' }).locator('[aria-current="page"]').allTextContents(),
    ).resolves.toEqual(['Dataset']);
    await drawBox(page, { x: 0.1, y: 0.1, width: 0.2, height: 0.2 });
    await drawBox(page, { x: 0.5, y: 0.5, width: 0.3, height: 0.3 });
    await expect(boxes().allTextContents()).resolves.toEqual(['red at 10%, 10% · 20×20%', 'red at 50%, 50% · 30×30%']);

    // Picked by its name in the list, the first box takes the next keys without another click on the photo.
    await boxes().first().getByRole('button').click();
    await page.keyboard.press('2');
    await page.keyboard.press('ArrowRight');
    await expect(boxes().first().textContent()).resolves.toBe('blue at 11%, 10% · 20×20%');

    // Escape lets go; Tab then selects each box in turn, and after the last the focus leaves the photo.
    await page.keyboard.press('Escape');
    await expect(selectedBox()).resolves.toBeNull();
    await page.keyboard.press('Tab');
    await expect(selectedBox()).resolves.toBe('blue at 11%, 10% · 20×20%');
    await page.keyboard.press('Tab');
    await expect(selectedBox()).resolves.toBe('red at 50%, 50% · 30×30%');
    await expect(focusedRole()).resolves.toBe('application');
    await page.screenshot({ path: join(SCREENSHOTS, 'box-editor-keyboard.png'), fullPage: true });
    await page.keyboard.press('Tab');
    await expect(selectedBox()).resolves.toBeNull();
    await expect(focusedRole()).resolves.not.toBe('application');

    // Back on the photo, Shift+Tab goes back through the boxes the same way, then out.
    await page.getByRole('application').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    await expect(selectedBox()).resolves.toBe('blue at 11%, 10% · 20×20%');
    await page.keyboard.press('Shift+Tab');
    await expect(selectedBox()).resolves.toBeNull();
    await expect(focusedRole()).resolves.not.toBe('application');
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('shows a diagonal resize cursor along each corner’s own diagonal', async () => {
    await boxes().first().getByRole('button').click();
    const cursor = (corner: string) =>
      page
        .locator(`.box-editor .handle-${corner}`)
        .evaluate((handle) => handle.ownerDocument.defaultView!.getComputedStyle(handle).cursor);
    await expect(Promise.all(['nw', 'ne', 'sw', 'se'].map(cursor))).resolves.toEqual([
      'nwse-resize',
      'nesw-resize',
      'nesw-resize',
      'nwse-resize',
    ]);
  });

  it('asks before leaving boxes unsaved, and not once they are saved', async () => {
    const questions: string[] = [];
    // Every question answered "stay".
    page.on('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    const heading = page.getByRole('heading', { name: /^scene-\d\.png$/ });
    await drawBox(page, { x: 0.2, y: 0.6, width: 0.2, height: 0.2 });
    await page.getByText('Unsaved changes').waitFor();

    // Staying keeps the image and its boxes as they were.
    const step = (await page.getByRole('button', { name: 'Next', exact: true }).isEnabled()) ? 'Next' : 'Previous';
    await page.getByRole('button', { name: step, exact: true }).click();
    expect(questions).toEqual(['The boxes of this image are not saved. Leave it and lose them?']);
    await expect(heading.textContent()).resolves.toBe('scene-0.png');
    await expect(boxes().count()).resolves.toBe(3);
    await page.getByRole('link', { name: '← All images' }).click();
    expect(questions).toHaveLength(2);
    await expect(heading.textContent()).resolves.toBe('scene-0.png');
    // The browser's Back asks too; staying keeps the image, its boxes and its address.
    const address = page.url();
    await page.goBack();
    await page.waitForFunction(`location.href === ${JSON.stringify(address)}`);
    expect(questions).toHaveLength(3);
    await expect(heading.textContent()).resolves.toBe('scene-0.png');
    await expect(boxes().count()).resolves.toBe(3);

    // Saved, the boxes go along without a question.
    await page.getByRole('button', { name: 'Save boxes and go to the next image' }).click();
    await page.getByText('Unsaved changes').waitFor({ state: 'detached' });
    // It goes on to the next image where there is one.
    if (step === 'Next') await page.getByRole('heading', { name: 'scene-1.png' }).waitFor();
    await page.getByRole('link', { name: '← All images' }).click();
    await page
      .getByRole('listbox', { name: 'Images' })
      .getByRole('option', { name: /^scene-0\.png, 3 boxes/ })
      .waitFor();
    expect(questions).toHaveLength(3);
  }, 60_000);

  it('stays where the user went while the boxes were being saved', async () => {
    await page
      .getByRole('listbox', { name: 'Images' })
      .getByRole('option', { name: /^scene-0\.png,/ })
      .dblclick();
    await page.getByRole('heading', { name: 'scene-0.png' }).waitFor();
    await drawBox(page, { x: 0.6, y: 0.1, width: 0.2, height: 0.2 });
    // The save is held until the user has gone back to the grid.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/regions', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole('button', { name: 'Save boxes and go to the next image' }).click();
    await page.getByRole('link', { name: '← All images' }).click();
    const grid = page.getByRole('listbox', { name: 'Images' });
    await grid.waitFor();
    release();
    await grid.getByRole('option', { name: /^scene-0\.png, 4 boxes/ }).waitFor();
    await page.unroute('**/regions');
    await expect(grid.isVisible()).resolves.toBe(true);
    expect(new URL(page.url()).pathname).toBe(`/projects/${project.id}/dataset`);
  }, 60_000);
});
