import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { deployedTinyModel } from '../support/deployed-tiny-model.js';
import { BLUE, colouredSquares, RED } from '../support/generated-images.js';

/** Progress within an epoch while a model trains; smart-labeling cards that load only what is on screen. */
describe('console: live progress within an epoch, and lazy suggestion cards', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'watcher');
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('shows the preparation before the first epoch, then step i of n within the epoch as a bar that advances, with the time left, until cancelled', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'progress');
    await client.upload(project.id, await colouredSquares(RED, 24, 41), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 24, 42), { label: 'blue' }, 'blue');
    // Another run holds the training queue, so the page is open before this one starts and sees its preparation.
    const blocker = await client.train(project.id, { imageSize: 16, epochs: 500, batchSize: 2, seed: 4 });
    // Batches of 2: some 19 an epoch, so an epoch lasts long enough to be watched.
    const queued = await client.train(project.id, { imageSize: 64, epochs: 500, batchSize: 2, seed: 5 });
    await page.goto(`/projects/${project.id}/iterations/${queued.id}`);
    await page.getByRole('heading', { name: /: queued$/ }).waitFor();
    await client.http
      .post(`/v1/projects/${project.id}/iterations/${blocker.id}/cancel`)
      .set('Authorization', client.auth)
      .expect(200);

    // Before the first epoch: reading and decoding the 48 photos, as a bar of its own.
    const preparation = page.getByRole('progressbar', { name: /^(Reading|Decoding) photos$/ });
    await preparation.waitFor({ timeout: 60_000 });
    await expect(page.locator('.training-preparation').textContent()).resolves.toMatch(
      /^ (Reading|Decoding) photos: \d+ of 48 photos/,
    );
    await expect(preparation.getAttribute('max')).resolves.toBe('48');
    // No empty axes before the first epoch: a sentence says when the curves come.
    await page.getByText('The training curves appear once the first epoch ends.').waitFor();
    await expect(page.getByRole('img', { name: 'Loss chart' }).count()).resolves.toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'training-preparation.png') });

    const withinEpoch = page.getByRole('progressbar', { name: /^Progress within epoch \d+$/ });
    await withinEpoch.waitFor({ timeout: 60_000 });
    // Once the epochs run, the preparation bar is gone.
    await expect(page.locator('.training-preparation').count()).resolves.toBe(0);
    const caption = page.locator('.training-progress p', { has: withinEpoch });
    const first = parsePosition(await caption.textContent());
    // The count is of steps, and says what a step takes: 2 photos (the batch size), no number left to guess; then
    // the run's split of the 48 photos, as its worker reported it.
    const sizes =
      / in epoch \d+ · each step learns from 2 photos · (\d+) training \/ (\d+) validation photos · \d+ images\/s/.exec(
        (await caption.textContent())!,
      );
    expect(sizes).not.toBeNull();
    const [training, validation] = [Number(sizes![1]), Number(sizes![2])];
    expect(training + validation).toBe(48);
    expect(validation).toBeGreaterThan(0);
    expect(training).toBeGreaterThan(validation);
    expect(first.batch).toBeGreaterThanOrEqual(1);
    expect(first.batch).toBeLessThanOrEqual(first.batches);
    await expect(withinEpoch.getAttribute('max')).resolves.toBe(String(first.batches));
    // No time left guessed from the first epoch's steps (read in one snapshot with the step it is at).
    const progressText = (await page.locator('.training-progress').textContent())!;
    if (/ in epoch 1 /.test(progressText))
      expect(progressText).toContain('time left: estimated once the first epoch ends');
    await page.screenshot({ path: join(SCREENSHOTS, 'training-progress.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    // It advances: a later batch of the same epoch, or a later epoch.
    const advanced = (text: string | null) => {
      const now = parsePosition(text);
      return now.epoch > first.epoch || (now.epoch === first.epoch && now.batch > first.batch);
    };
    const deadline = Date.now() + 60_000;
    while (!advanced(await caption.textContent())) {
      if (Date.now() > deadline) throw new Error('the bar within the epoch did not advance in a minute');
      await page.waitForTimeout(100);
    }

    // Once an epoch ended, its curves: the legend names the series, with no '--' placeholders for hover values.
    const legend = page.getByRole('img', { name: 'Accuracy chart' }).locator('.u-legend .u-series');
    await legend.first().waitFor({ timeout: 60_000 });
    await expect(legend.allTextContents()).resolves.toEqual(['training', 'validation']);
    // The time left is told from whole epochs (the first steps pay a warm-up): once one ended.
    await page
      .locator('.training-progress')
      .getByText(/about \d+ (s|min) left/)
      .waitFor();

    // Cancelled, the page shows the stopped iteration: no progress bars left.
    await page.getByRole('button', { name: 'Cancel training' }).click();
    await page.getByRole('heading', { name: 'Iteration 2 cancelled' }).waitFor({ timeout: 60_000 });
    await expect(page.getByRole('progressbar').count()).resolves.toBe(0);
    // How it ran, each value named, the time with its unit (not a bare 'wasm' after the seed).
    const run = page.getByLabel('Training run');
    await expect(run.getByRole('term').allTextContents()).resolves.toEqual([
      'Model type',
      'Images',
      'Seed',
      'TensorFlow.js backend',
      'Training time',
      'Stopped',
    ]);
    const fact = async (term: string) =>
      (await run.getByRole('term').filter({ hasText: term }).locator('xpath=following-sibling::dd[1]').textContent())!;
    // Stopped before the end: no split of the images to tell.
    await expect(fact('Images')).resolves.toBe('48');
    await expect(fact('Seed')).resolves.toBe('5');
    await expect(fact('TensorFlow.js backend')).resolves.toMatch(/^(wasm|cpu|tensorflow)$/);
    await expect(fact('Training time')).resolves.toMatch(/^\d+ s$|^\d+ min( \d+ s)?$/);
    expect(harness.problems()).toEqual([]);
  }, 180_000);

  it('loads suggestion thumbnails as they scroll into view, each once, and filters by probability in percent', async () => {
    const { project, iterationId } = await deployedTinyModel(client, ['red', 'blue'], 'many unlabeled');
    await client.upload(project.id, await colouredSquares(RED, 40, 43), {}, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 40, 44), {}, 'blue');
    await page.goto(`/projects/${project.id}/suggestions`);
    await page.getByRole('button', { name: 'Suggest labels for unlabeled images' }).click();
    await page.getByRole('status').filter({ hasText: '80 of 80 images got suggestions.' }).waitFor({ timeout: 60_000 });

    // Counted from a fresh load of the page: from its commit on, as the page before it may still be fetching.
    const requests: string[] = [];
    let counting = false;
    page.on('framenavigated', (frame) => (counting ||= frame === page.mainFrame()));
    page.on('request', (request) => {
      if (counting) requests.push(new URL(request.url()).pathname);
    });
    await page.reload();
    const suggestions = page.getByRole('list', { name: 'Suggestions' });
    await suggestions.locator(':scope > li').nth(79).waitFor();
    await page.locator('.suggestions img').first().waitFor();
    await page.waitForLoadState('networkidle');
    const thumbnails = () => requests.filter((path) => path.endsWith('/thumbnail'));
    // Only the cards on (or near) the screen asked for their thumbnail.
    expect(thumbnails().length).toBeGreaterThan(0);
    const onScreen = thumbnails().length;
    expect(onScreen).toBeLessThan(80);
    // Nothing else is asked for per card: the other requests are the page's own, a handful.
    expect(requests.filter((path) => path.startsWith('/v1/') && !path.endsWith('/thumbnail')).length).toBeLessThan(10);

    const last = suggestions.locator(':scope > li').nth(79);
    await last.scrollIntoViewIfNeeded();
    await last.locator('img').waitFor();
    // The cards scrolled to fetched theirs; none was fetched twice.
    expect(thumbnails().length).toBeGreaterThan(onScreen);
    expect(new Set(thumbnails()).size).toBe(thumbnails().length);

    // The filters speak percent, as the cards do; the API gets fractions.
    const filtered = page.waitForRequest((request) => /[?&]minProbability=0\.5(&|$)/.test(request.url()));
    await page.getByLabel('Probability from').fill('50');
    await filtered;
    await expect(page.getByRole('group', { name: 'Filter suggestions' }).getByText('%').count()).resolves.toBe(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'suggestions-filters.png') });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    // The history counts the images of a suggestion run, names a lone one, and says which label each run suggested
    // how often, instead of a bare count; an accepted suggestion says which iteration it came from.
    const listed = await client.http
      .get(`/v1/projects/${project.id}/iterations/${iterationId}/suggestions`)
      .set('Authorization', client.auth)
      .expect(200);
    const [rejectedOne, acceptedOne, ...others] = listed.body.items.map((item: { imageId: string }) => item.imageId);
    for (const imageIds of [[rejectedOne], others.slice(0, 2)])
      await client.http
        .post(`/v1/projects/${project.id}/iterations/${iterationId}/suggestions/reject`)
        .set('Authorization', client.auth)
        .send({ imageIds })
        .expect(200);
    await client.http
      .post(`/v1/projects/${project.id}/iterations/${iterationId}/suggestions/accept`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: acceptedOne }] })
      .expect(200);
    const fileName = async (imageId: string) =>
      (
        await client.http
          .get(`/v1/projects/${project.id}/images/${imageId}`)
          .set('Authorization', client.auth)
          .expect(200)
      ).body.filename as string;
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'History' }).click();
    const sentences = page.getByRole('list', { name: 'Events' }).locator(':scope > li .sentence');
    // The 80 uploads fill the first pages: the newest events come with Load more.
    const acceptedSentence = sentences.filter({ hasText: 'accepted suggestion of' });
    await sentences.first().waitFor();
    while ((await acceptedSentence.count()) === 0) {
      const events = await sentences.count();
      await page.getByRole('button', { name: 'Load more' }).click();
      await expect.poll(() => sentences.count()).toBeGreaterThan(events);
    }
    const told = (await sentences.allTextContents()).slice(-5);
    expect(told[0]).toBe('Asked Iteration 1 to suggest labels for 80 images');
    // The tiny model's choice of label is its own: one label for all 80, or each label with its count.
    const computed =
      /^Iteration 1 suggested (?:(?:red|blue) for all 80 images|labels for 80 images: (?:red|blue) for (\d+), (?:red|blue) for (\d+))$/.exec(
        told[1],
      );
    expect(computed).not.toBeNull();
    const [, most = '80', rest = '0'] = computed!;
    expect(Number(most) + Number(rest)).toBe(80);
    expect(told.slice(2, 4)).toEqual([
      `Rejected the suggestion of Iteration 1 for ${await fileName(rejectedOne)}`,
      'Rejected the suggestions of Iteration 1 for 2 images',
    ]);
    const accepted = await fileName(acceptedOne);
    expect(
      ['red', 'blue'].map((label) => `Labeled ${accepted} ${label} (accepted suggestion of Iteration 1)`),
    ).toContain(told[4]);
    await page.screenshot({ path: join(SCREENSHOTS, 'console3-suggestion-history.png'), fullPage: true });
    expect(harness.problems()).toEqual([]);
  }, 120_000);

  it('shows long label names in full where a suggestion is accepted as another label, so two alike are told apart', async () => {
    const [spring, winter] = [
      'Western hemlock (Tsuga heterophylla), young shoots in spring',
      'Western hemlock (Tsuga heterophylla), old needles in winter',
    ];
    const { project } = await deployedTinyModel(client, [spring, winter], 'long names');
    await client.upload(project.id, await colouredSquares(RED, 1, 45), {}, 'shoot');
    await page.goto(`/projects/${project.id}/suggestions`);
    await page.getByRole('button', { name: 'Suggest labels for unlabeled images' }).click();
    await page.getByRole('status').filter({ hasText: '1 of 1 images got suggestions.' }).waitFor({ timeout: 60_000 });
    const card = page.getByRole('listitem', { name: /^shoot-0\.png: / });
    const acceptAs = card.getByLabel('Accept as');
    const top = (await card.getByRole('list', { name: 'Probabilities' }).getByRole('listitem').first().textContent())!;
    const suggested = top.replace(/: [\d.]+%$/, '');
    /** The chosen name as the card shows it: whole, and inside the card (wrapped, not cut off). */
    const shownInFull = async (name: string) => {
      const shown = card.getByText(name, { exact: true }).filter({ visible: true });
      await shown.waitFor();
      const [text, box] = [(await shown.boundingBox())!, (await card.boundingBox())!];
      expect(text.x + text.width).toBeLessThanOrEqual(box.x + box.width);
      await expect(shown.evaluate((element) => element.scrollWidth <= element.clientWidth)).resolves.toBe(true);
    };
    await shownInFull(`${suggested} (suggested)`);

    // Chosen with the keyboard as with any select: the next label, then the other one, each read in full.
    await acceptAs.focus();
    await page.keyboard.press('ArrowDown');
    await expect(acceptAs.inputValue()).resolves.toBe(spring);
    await shownInFull(spring);
    await page.keyboard.press('ArrowDown');
    await shownInFull(winter);
    await page.screenshot({ path: join(SCREENSHOTS, 'suggestion-long-labels.png') });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    await card.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Accept selected (1)' }).click();
    await page.getByRole('status').filter({ hasText: '1 accepted.' }).waitFor();
    // Nothing left unlabeled: suggesting is no longer the page's main button, and the page says why.
    await page.getByText('Every image has a label: upload photos without one to get suggestions.').waitFor();
    await expect(
      page.getByRole('button', { name: 'Suggest labels for unlabeled images' }).getAttribute('class'),
    ).resolves.toBeNull();
    const images = await client.http
      .get(`/v1/projects/${project.id}/images`)
      .set('Authorization', client.auth)
      .expect(200);
    expect(images.body.items.map((image: { label: { name: string } | null }) => image.label?.name)).toEqual([winter]);

    // In the dataset's grid the long name keeps to its cell (two lines at most), whole in its title.
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Dataset' }).click();
    const cell = page.getByRole('listbox', { name: 'Images' }).getByRole('option', { name: /^shoot-0\.png/ });
    const caption = cell.locator('.cell-label');
    await expect(caption.getAttribute('title')).resolves.toBe(winter);
    const [inCell, captionBox] = [(await cell.boundingBox())!, (await caption.boundingBox())!];
    expect(captionBox.y + captionBox.height).toBeLessThanOrEqual(inCell.y + inCell.height);
    expect(captionBox.y).toBeGreaterThanOrEqual(inCell.y);
    expect(harness.problems()).toEqual([]);
  }, 120_000);
});

function parsePosition(text: string | null) {
  const match = /step (\d+) of (\d+) in epoch (\d+)/.exec(text ?? '');
  if (!match) throw new Error(`no step position in ${JSON.stringify(text)}`);
  return { batch: Number(match[1]), batches: Number(match[2]), epoch: Number(match[3]) };
}
