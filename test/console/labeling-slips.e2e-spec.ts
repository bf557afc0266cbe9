import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { RED, colouredSquares } from '../support/generated-images.js';

/** Slips a labeling session must survive: a selection that outlives its label, a label pressed by mistake. */
describe('console: labeling slips and their undo', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;
  let project: { id: string; labels: Record<string, string> };
  /** Each photo's caption in the grid (its label or "unlabeled"), tree-0.png first. */
  const captions = () =>
    page
      .getByRole('listbox', { name: 'Images' })
      .getByRole('option')
      .evaluateAll((cells) =>
        cells
          .map((cell) => cell.getAttribute('aria-label')!.split(', '))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([, caption]) => caption),
      );
  /** Waits until the grid shows these captions (a relabel shows after the grid reads again), then compares. */
  const expectCaptions = async (expected: string[]) => {
    for (const [index, caption] of expected.entries())
      await page.getByRole('option', { name: `tree-${index}.png, ${caption},` }).waitFor();
    await expect(captions()).resolves.toEqual(expected);
  };
  const cell = (index: number) =>
    page.getByRole('listbox', { name: 'Images' }).getByRole('option', { name: new RegExp(`^tree-${index}\\.png,`) });

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'slip-labeler');
    project = await client.createProject('classification', ['Hemlock', 'Cherry'], 'trees');
    await client.upload(project.id, await colouredSquares(RED, 6, 3), {}, 'tree');
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('clears the selection once a digit labels it, so a later Ctrl-click and digit relabel only the new pick', async () => {
    await page.goto(`/projects/${project.id}`);
    await cell(5).waitFor();
    const status = page.getByRole('toolbar', { name: 'Selected images' });
    await cell(0).click({ modifiers: ['Control'] });
    await cell(1).click({ modifiers: ['Control'] });
    await cell(2).click({ modifiers: ['Control'] });
    await status.getByText('6 images, 3 selected').waitFor();
    await page.keyboard.press('1');
    await status.getByRole('status').filter({ hasText: 'Labeled 3 images as Hemlock.' }).waitFor();
    await status.getByText(/^6 images$/).waitFor();
    // The labeled images are no longer selected.
    await expect(
      page.getByRole('listbox', { name: 'Images' }).getByRole('option', { selected: true }).count(),
    ).resolves.toBe(0);

    // The slip that relabeled 20 photos: a Ctrl-click after labeling, then the next digit.
    await cell(4).click({ modifiers: ['Control'] });
    await status.getByText('6 images, 1 selected').waitFor();
    await page.keyboard.press('2');
    await status.getByRole('status').filter({ hasText: 'Labeled tree-4.png as Cherry.' }).waitFor();
    await expectCaptions(['Hemlock', 'Hemlock', 'Hemlock', 'unlabeled', 'Cherry', 'unlabeled']);
  }, 60_000);

  it('undoes the last labeling, putting back each image’s own label', async () => {
    // Relabel a mix (two Hemlock, one Cherry, one unlabeled) through the toolbar, then undo it.
    for (const index of [1, 2, 3, 4]) await cell(index).click({ modifiers: ['Control'] });
    await page.getByLabel('Label selected as').selectOption({ label: 'Cherry' });
    const toolbar = page.getByRole('toolbar', { name: 'Selected images' });
    await toolbar.getByRole('status').filter({ hasText: 'Labeled 4 images as Cherry.' }).waitFor();
    await expectCaptions(['Hemlock', 'Cherry', 'Cherry', 'Cherry', 'Cherry', 'unlabeled']);
    await page.screenshot({ path: join(SCREENSHOTS, 'labeling-undo.png') });

    await toolbar.getByRole('button', { name: 'Undo' }).click();
    await expectCaptions(['Hemlock', 'Hemlock', 'Hemlock', 'unlabeled', 'Cherry', 'unlabeled']);
    // One undo per labeling.
    await expect(toolbar.getByRole('button', { name: 'Undo' }).count()).resolves.toBe(0);

    // The key 0 removes a label, and that too can be undone.
    await cell(0).click();
    await page.keyboard.press('0');
    await toolbar.getByRole('status').filter({ hasText: 'Removed the label of tree-0.png.' }).waitFor();
    await expectCaptions(['unlabeled', 'Hemlock', 'Hemlock', 'unlabeled', 'Cherry', 'unlabeled']);
    await toolbar.getByRole('button', { name: 'Undo' }).click();
    await expectCaptions(['Hemlock', 'Hemlock', 'Hemlock', 'unlabeled', 'Cherry', 'unlabeled']);
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('asks before removing a label that images carry, saying how many lose it, and keeps it when told to', async () => {
    const labeled = await client.createProject('classification', ['Pine', 'Oak', 'Elm'], 'forest');
    await client.upload(labeled.id, await colouredSquares(RED, 3, 5), { label: 'Pine' }, 'pine');
    await page.goto(`/projects/${labeled.id}/settings`);
    await page.getByRole('button', { name: 'Remove label Pine' }).click();
    const question = page.getByRole('group', { name: 'Confirm removing label Pine' });
    await expect(question.getByRole('paragraph').textContent()).resolves.toBe(
      'Pine is on 3 images: removing it leaves them unlabeled, for good.',
    );
    await question.getByRole('button', { name: 'Keep it' }).click();
    await expect(question.count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: /^Remove label / }).count()).resolves.toBe(3);

    await page.getByRole('button', { name: 'Remove label Pine' }).click();
    await question.getByRole('button', { name: 'Remove Pine' }).click();
    await page.getByRole('button', { name: 'Remove label Pine' }).waitFor({ state: 'detached' });
    // A label no image carries goes at once: nothing to lose.
    await page.getByRole('button', { name: 'Remove label Elm' }).click();
    await page.getByRole('button', { name: 'Remove label Elm' }).waitFor({ state: 'detached' });
    await expect(page.getByRole('group', { name: /^Confirm removing label/ }).count()).resolves.toBe(0);
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('lines up the project import form: both labels on one line, both fields on one line', async () => {
    await page.goto('/');
    const form = page.getByRole('form', { name: 'Import a project' });
    await form.waitFor();
    const top = async (text: string) => Math.round((await form.getByText(text).boundingBox())!.y);
    const field = async (name: string) => {
      const box = (await form.getByLabel(name).boundingBox())!;
      return [Math.round(box.y), Math.round(box.y + box.height)];
    };
    await expect(top('Project archive (.zip)')).resolves.toBe(await top('Name (default: the exported one)'));
    await expect(field('Project archive (.zip)')).resolves.toEqual(await field('Name (default: the exported one)'));
    await form.screenshot({ path: join(SCREENSHOTS, 'import-project-form.png') });
  });
});
