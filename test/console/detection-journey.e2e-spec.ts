import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { type ConsoleHarness, sessionToken, startConsole, signUp, SCREENSHOTS } from '../support/browser.js';
import { RED, squareScenes } from '../support/generated-images.js';
import { drawBox } from './box-drawing.js';

describe('console: the detection journey', () => {
  let harness: ConsoleHarness;

  beforeAll(async () => {
    harness = await startConsole();
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('signs up, uploads photos, draws a box on each, trains, watches progress, reads the metrics, deploys, tries a photo and opens the history', async () => {
    // Detection training needs at least 15 boxes per label.
    const scenes = await squareScenes([RED], 17, 5, 32);
    const [tryScene, ...training] = scenes;
    const [quickScene] = await squareScenes([RED], 1, 77, 32);
    const page = await harness.newPage();
    await signUp(page, 'detective');
    await page.getByLabel('Project name').fill('Red squares');
    await page.getByLabel('Detection (boxes around objects)').check();
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByLabel('New label').fill('red');
    await page.getByRole('button', { name: 'Add label' }).click();
    await page.getByRole('button', { name: 'Remove label red' }).waitFor();

    await page
      .getByLabel('Images or zip archives to upload')
      .setInputFiles(
        training.map((scene, index) => ({ name: `scene-${index}.png`, mimeType: 'image/png', buffer: scene.png })),
      );
    await page.getByRole('status').filter({ hasText: '16 uploaded' }).waitFor();
    await page.getByRole('listbox', { name: 'Images' }).getByRole('option').nth(15).waitFor();

    await page.getByRole('listbox', { name: 'Images' }).focus();
    await page.keyboard.press('Enter');
    for (let index = 0; index < training.length; index += 1) {
      await page.getByRole('heading', { name: `scene-${index}.png` }).waitFor();
      const [box] = training[index].boxes;
      await drawBox(page, box);
      await page.getByRole('list', { name: 'Boxes' }).getByRole('listitem').first().waitFor();
      if (index === 0) await page.screenshot({ path: join(SCREENSHOTS, 'detection-box.png') });
      await page.getByRole('button', { name: 'Save boxes and go to the next image' }).click();
      if (index < training.length - 1) await page.getByRole('heading', { name: `scene-${index + 1}.png` }).waitFor();
    }
    await page.getByText('Unsaved changes').waitFor({ state: 'detached' });
    await page.getByRole('link', { name: '← All images' }).click();
    await page.getByRole('option', { name: /scene-0\.png, 1 box: red, train/ }).waitFor();
    // The grid draws each photo's boxes on its thumbnail, where they are on the photo.
    const [saved] = (
      await harness.testApp.http
        .get(`/v1/projects/${/\/projects\/([^/]+)/.exec(page.url())![1]}/images`)
        .set('Authorization', `Bearer ${await sessionToken(page)}`)
        .expect(200)
    ).body.items.filter((image: { filename: string }) => image.filename === 'scene-0.png');
    const cell = page.getByRole('option', { name: /scene-0\.png, 1 box: red, train/ });
    const thumbnail = (await cell.locator('img').boundingBox())!;
    const onThumbnail = (await cell.locator('.expected-box').boundingBox())!;
    const [region] = saved.regions as { x: number; y: number; width: number; height: number }[];
    expect(Math.abs(onThumbnail.x - (thumbnail.x + region.x * thumbnail.width))).toBeLessThan(2);
    expect(Math.abs(onThumbnail.y - (thumbnail.y + region.y * thumbnail.height))).toBeLessThan(2);
    expect(Math.abs(onThumbnail.width - region.width * thumbnail.width)).toBeLessThan(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'detection-dataset.png') });
    // Every scene is 32×32: the analysis says so once, not as a range from 32 to 32.
    await page.getByRole('link', { name: 'Analysis' }).click();
    await page.getByText('Width 32 px (every image), height 32 px (every image)', { exact: true }).waitFor();

    await page.getByRole('link', { name: 'Train' }).click();
    const form = page.getByRole('form', { name: 'Training configuration' });
    // The small model from scratch: 'auto' picks a pretrained backbone for these, too slow for a test on a busy machine.
    await form.getByLabel('Model type').selectOption('tiny-detector');
    await form.getByLabel('Image size').fill('32');
    await form.getByLabel('Epochs').fill('12');
    await form.getByText('Advanced settings').click();
    await form.getByLabel('Batch size').fill('8');
    await form.getByLabel('Learning rate').fill('0.005');
    await form.getByLabel('Seed').fill('3');
    await form.getByLabel('Horizontal flip').uncheck();
    // Shares in percent, as everywhere in the console: 100 % keeps the whole photo.
    await form.getByLabel('Crop scale').fill('100');
    await form.getByLabel('Brightness').fill('0');
    await expect(form.getByText('1 to 500 · default 10').count()).resolves.toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'detection-train-form.png'), fullPage: true });
    await form.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('heading', { name: /Iteration 1: (queued|running)/ }).waitFor();
    await page.getByText(/\d+ of 12 epochs done/).waitFor();
    // The table below says what the card says (not 'queued' until the run ends).
    await page.getByRole('heading', { name: /Iteration 1: (running|completed)/ }).waitFor();
    await page.getByRole('cell', { name: /^(running|completed)$/ }).waitFor({ timeout: 3000 });
    await page.getByRole('cell', { name: 'completed' }).waitFor({ timeout: 120_000 });
    await page.getByRole('cell', { name: 'Tiny detector from scratch' }).waitFor();
    // Each run's validation scores beside it, as in Custom Vision's list of iterations, to choose one to deploy: at
    // Custom Vision's default thresholds (probability 50%, overlap 30%), those the iteration's page opens with.
    const listProjectId = /\/projects\/([^/]+)/.exec(page.url())![1];
    const [trained] = (
      await harness.testApp.http
        .get(`/v1/projects/${listProjectId}/iterations`)
        .set('Authorization', `Bearer ${await sessionToken(page)}`)
        .expect(200)
    ).body.items;
    const atDefaults = (
      await harness.testApp.http
        .get(`/v1/projects/${listProjectId}/iterations/${trained.id}/metrics`)
        .query({ threshold: 0.5, overlapThreshold: 0.3 })
        .set('Authorization', `Bearer ${await sessionToken(page)}`)
        .expect(200)
    ).body as { precision: number; recall: number; mapAtOverlapThreshold: number };
    const iterationRow = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Iteration 1' }) });
    const asPercent = (value: number) => `${(value * 100).toFixed(1)}%`;
    await expect(page.getByRole('columnheader', { name: 'mAP@30', exact: true }).count()).resolves.toBe(1);
    await page
      .getByText('Scores on the validation images at a 50% probability threshold and a 30% overlap threshold')
      .waitFor();
    await iterationRow
      .getByRole('cell', { name: asPercent(atDefaults.precision), exact: true })
      .first()
      .waitFor();
    await expect(iterationRow.getByRole('cell').allTextContents()).resolves.toEqual([
      'Iteration 1',
      'completed',
      'Tiny detector from scratch',
      '16',
      asPercent(atDefaults.precision),
      asPercent(atDefaults.recall),
      asPercent(atDefaults.mapAtOverlapThreshold),
      expect.any(String),
      // How long it trained, beside when it was queued.
      expect.stringMatching(/^(under 1 s|\d+ s|\d+ min( \d+ s)?)$/),
    ]);
    // The card that showed the run live says how it ended, with the way on, before the form for the next one.
    const ended = page
      .getByRole('status')
      .filter({ has: page.getByRole('heading', { name: 'Iteration 1 completed' }) });
    await ended.waitFor();
    await page.getByRole('form', { name: 'Training configuration' }).waitFor();
    await ended.getByRole('link', { name: 'See its metrics, test it and deploy it' }).click();
    await page.getByRole('table', { name: 'Metrics per label' }).getByRole('rowheader', { name: 'red' }).waitFor();
    // Custom Vision's mAP: at the overlap threshold, 30% by default, named so; each label's AP too.
    await expect(page.locator('dt', { hasText: 'mAP@30' }).count()).resolves.toBe(1);
    await page.getByRole('table', { name: 'Metrics per label' }).getByRole('columnheader', { name: 'AP@30' }).waitFor();
    // Boxes have probabilities everywhere in the console: the metrics' threshold is one too.
    await page.getByText('Probability threshold: 50%').waitFor();
    await page.getByText('Overlap threshold: 30%').waitFor();
    await page
      .getByText('A found box matches a labeled box of its label when they overlap (IoU) by at least')
      .waitFor();
    const atHalfOverlap = page.waitForResponse(
      (response) => response.url().includes('/metrics?threshold=0.5&overlapThreshold=0.5') && response.ok(),
    );
    await page.getByLabel(/Overlap threshold/).fill('0.5');
    await atHalfOverlap;
    await page.locator('dt', { hasText: 'mAP@50' }).waitFor();
    // The line under the training curves names the figure the slider now gives, not the default mAP@30.
    const curvesLine = page.locator('p.hint', { hasText: 'Each epoch’s mAP@50 counts a found box' });
    await expect(curvesLine.textContent()).resolves.toBe(
      'Each epoch’s mAP@50 counts a found box from 50% overlap, as training measures it; the iteration’s mAP@50 ' +
        'counts it from 50% too, as the overlap threshold below is set.',
    );
    await page.getByLabel(/Overlap threshold/).fill('0.7');
    await page.locator('dt', { hasText: 'mAP@70' }).waitFor();
    await expect(curvesLine.textContent()).resolves.toBe(
      'Each epoch’s mAP@50 counts a found box from 50% overlap, as training measures it; the iteration’s mAP@70 ' +
        'counts it from 70%, as the overlap threshold below is set, so the two figures differ.',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'console3-detection-overlap-line.png'), fullPage: true });
    await page.getByLabel(/Overlap threshold/).fill('0.3');
    await page.locator('dt', { hasText: 'mAP@30' }).waitFor();
    // A detector's epochs record validation mAP, not accuracy: the curve is named for what it shows.
    await page.getByRole('img', { name: 'Validation mAP@50 chart' }).waitFor();
    // Its figure is not the iteration's mAP@30 beside it: the page says which overlap each counts from.
    await page
      .getByText(
        'Each epoch’s mAP@50 counts a found box from 50% overlap, as training measures it; the iteration’s mAP@30 ' +
          'counts it from 30%, Custom Vision’s default, so the two figures differ.',
      )
      .waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'console2-detection-curves.png'), fullPage: true });
    await expect(page.getByRole('img', { name: 'Accuracy chart' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Download model (.zip)' }).waitFor();
    // How it was trained, each value named (not 'tiny-detector · 16 images · seed 3 · wasm'), the time with its unit.
    const run = page.getByLabel('Training run');
    await expect(run.getByRole('term').allTextContents()).resolves.toEqual([
      'Model type',
      'Images',
      'Seed',
      'TensorFlow.js backend',
      'Training time',
      'Finished',
    ]);
    // The dataset's images, and how they were shared between learning and measuring.
    await expect(run.getByRole('definition').nth(1).textContent()).resolves.toBe(
      `16: ${trained.trainCount} trained on, ${trained.validationCount} for validation`,
    );
    await expect(run.getByRole('definition').nth(4).textContent()).resolves.toMatch(/^\d+ s$|^\d+ min( \d+ s)?$/);

    // The validation images of a label, with their labeled (dashed) and found boxes; the precision/recall curve.
    await page
      .getByRole('table', { name: 'Metrics per label' })
      .getByRole('button', { name: 'Show the validation images labeled red' })
      .click();
    const validation = page.getByRole('region', { name: 'Validation images: Labeled red' });
    await validation.locator('.expected-box').first().waitFor();
    await page.getByRole('img', { name: 'Precision / recall per label chart' }).waitFor();

    // A photo in the test split (put there through the API): its test-run prediction is drawn as boxes too.
    const projectId = /\/projects\/([^/]+)/.exec(page.url())![1];
    const auth = `Bearer ${await sessionToken(page)}`;
    // Quick test: a photo tried on this iteration without deploying it, its boxes drawn from the slider's probability.
    const answer = (
      await harness.testApp.http
        .post(`/v1/projects/${projectId}/iterations/${/\/iterations\/([^/?#]+)/.exec(page.url())![1]}/quick-test`)
        .query({ threshold: 0 })
        .set('Authorization', auth)
        .set('Content-Type', 'image/png')
        .send(quickScene.png)
        .expect(200)
    ).body as { predictions: { label: string; probability: number }[] };
    expect(answer.predictions.length).toBeGreaterThan(0);
    const quickTest = page.getByRole('region', { name: 'Quick test' });
    await quickTest.getByLabel('Drop a photo here or choose one').setInputFiles({
      name: 'quick.png',
      mimeType: 'image/png',
      buffer: quickScene.png,
    });
    await quickTest.getByRole('img', { name: 'The photo you tried' }).waitFor();
    const listed = (minimum: number) =>
      answer.predictions
        .filter((prediction) => prediction.probability >= minimum)
        .slice(0, 5)
        .map((prediction) => `${prediction.label}: ${(prediction.probability * 100).toFixed(1)}%`);
    await expect(
      quickTest.getByRole('list', { name: 'Predictions' }).getByRole('listitem').allTextContents(),
    ).resolves.toEqual(listed(0.5));
    await quickTest.getByLabel(/Show boxes from a probability of/).fill('0');
    await quickTest.getByText('Show boxes from a probability of 0%').waitFor();
    await expect(
      quickTest.getByRole('list', { name: 'Predictions' }).getByRole('listitem').allTextContents(),
    ).resolves.toEqual(listed(0));
    await expect(quickTest.locator('.predicted-box').count()).resolves.toBe(listed(0).length);
    // A photo the model got wrong becomes training data with the boxes drawn, to correct on its page.
    await quickTest.getByRole('button', { name: 'Add to the dataset' }).click();
    const boxCount = listed(0).length;
    await quickTest.getByText(`Added to the dataset with ${boxCount} box${boxCount === 1 ? '' : 'es'}.`).waitFor();
    const dataset = (
      await harness.testApp.http.get(`/v1/projects/${projectId}/images`).set('Authorization', auth).expect(200)
    ).body.items as { filename: string; regions: unknown[] }[];
    expect(dataset.find((image) => image.filename === 'quick.png')?.regions).toHaveLength(boxCount);
    const heldOut = await harness.testApp.http
      .post(`/v1/projects/${projectId}/images`)
      .set('Authorization', auth)
      .attach('images', tryScene.png, 'held-out.png')
      .field('split', 'test')
      .expect(201);
    await harness.testApp.http
      .put(`/v1/projects/${projectId}/images/${heldOut.body.items[0].id}/regions`)
      .set('Authorization', auth)
      .send({ regions: tryScene.boxes.map(({ x, y, width, height }) => ({ label: 'red', x, y, width, height })) })
      .expect(200);
    await page.getByRole('button', { name: 'Test on the test split' }).click();
    const tested = page
      .getByRole('list', { name: 'Test predictions' })
      .getByRole('listitem')
      .filter({ hasText: 'held-out.png' });
    await tested.locator('.expected-box').waitFor({ timeout: 60_000 });
    // The card counts what the boxes it lists (≥ 50%) match at IoU 0.5, so its figures add up with each other and
    // with the run's precision and recall; mAP@50, which ranks every box whatever its probability, is labeled so.
    const card = /(\d+) labeled, (\d+) found at ≥ 50%: (\d+) matched, (\d+) missed, (\d+) false/.exec(
      (await tested.textContent())!,
    );
    expect(card).not.toBeNull();
    const [labeled, found, matched, missed, falsePositives] = card!.slice(1).map(Number);
    expect(labeled).toBe(1);
    expect(matched + missed).toBe(labeled);
    expect(matched + falsePositives).toBe(found);
    const iterationId = /\/iterations\/([^/?#]+)/.exec(page.url())![1];
    const [testRun] = (
      await harness.testApp.http
        .get(`/v1/projects/${projectId}/iterations/${iterationId}/test-runs`)
        .set('Authorization', auth)
        .expect(200)
    ).body.items;
    expect(testRun.metrics.recall).toBe(matched);
    expect(testRun.metrics.precision).toBe(found > 0 ? matched / found : 0);
    const runRow = page.getByRole('table', { name: 'Test runs' }).getByRole('row').nth(1);
    await expect(runRow.getByRole('cell').nth(4).textContent()).resolves.toBe(
      `${asPercent(testRun.metrics.precision)} / ${asPercent(testRun.metrics.recall)}`,
    );
    await page.getByRole('columnheader', { name: 'mAP@50 (all boxes)' }).waitFor();
    await page.getByText('mAP@50 ranks every box the model proposed, whatever its probability').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'detection-iteration.png'), fullPage: true });

    await page.getByRole('button', { name: 'Reproduce this iteration' }).click();
    await page.getByRole('heading', { name: /Iteration 2/ }).waitFor();
    await page.getByLabel('Compare the dataset with').selectOption({ label: 'Iteration 1' }, { timeout: 120_000 });
    await page.getByRole('list', { name: 'Dataset changes' }).getByText('16 unchanged').waitFor();
    // The reproduction names what it repeats, with a link, and once done whether it matched.
    const reproduces = page
      .getByLabel('Training run')
      .getByRole('term')
      .filter({ hasText: 'Reproduces' })
      .locator('xpath=following-sibling::dd[1]');
    await reproduces.getByRole('link', { name: 'Iteration 1' }).waitFor();
    await expect(reproduces.textContent()).resolves.toMatch(
      /^Iteration 1: (the same|a different) model, (the same|different) metrics$/,
    );

    await page.getByRole('link', { name: 'Deploy this iteration' }).click();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    const key = await page.getByTestId('deployment-key').textContent();
    expect(key).toMatch(/^dpk_/);
    // 'production' is taken now: the form no longer offers it (a second 'production' would be ambiguous), the next
    // deployment is named after its iteration unless named otherwise.
    const deploymentName = page.getByLabel('Deployment name');
    await page.waitForFunction(
      (input) => (input as { value: string }).value === '',
      await deploymentName.elementHandle(),
    );
    await expect(deploymentName.getAttribute('placeholder')).resolves.toBe('Iteration 2');
    await page.getByText('Call it from code').click();
    const snippets = await page.locator('figure pre').allTextContents();
    expect(snippets[0]).toContain(`-H 'X-Api-Key: ${key}'`);
    expect(snippets[3]).toMatch(
      new RegExp(`predictor\\.detect_image\\('[0-9a-f-]{36}', 'production', photo\\.read\\(\\)\\)`),
    );
    await page.getByLabel('Minimum probability').fill('0');
    await page
      .getByLabel('Drop a photo here or choose one')
      .setInputFiles({ name: 'try.png', mimeType: 'image/png', buffer: tryScene.png });
    await page.locator('.predicted-box').first().waitFor();
    await expect(
      page.getByRole('list', { name: 'Predictions' }).getByRole('listitem').first().textContent(),
    ).resolves.toMatch(/^red: /);
    // At probability 0 there are dozens of boxes: the five most probable are listed and drawn, the rest folded.
    await expect(page.getByRole('list', { name: 'Predictions' }).getByRole('listitem').count()).resolves.toBe(5);
    await expect(page.locator('.predicted-box').count()).resolves.toBe(5);
    // Drawn least probable first: where boxes overlap (as on a photo of one fork), the most probable box and its
    // caption come last, on top, readable.
    const drawn = (await page.locator('.try-it .predicted-box span').allTextContents()).map((caption) =>
      parseInt(caption.split(' ').at(-1)!),
    );
    expect(drawn).toEqual([...drawn].sort((a, b) => a - b));
    const folded = Number(
      /^(\d+) less probable/.exec(
        (await page.locator('summary').filter({ hasText: 'less probable' }).textContent())!,
      )![1],
    );
    expect(folded).toBeGreaterThan(0);
    await page.locator('summary').filter({ hasText: 'less probable' }).click();
    await expect(
      page.getByRole('list', { name: 'Less probable predictions' }).getByRole('listitem').count(),
    ).resolves.toBe(folded);
    // The photo and its captions sit below the file input, never over it.
    const input = (await page.getByLabel('Drop a photo here or choose one').boundingBox())!;
    for (const caption of await page.locator('.predicted-box span').all()) {
      expect((await caption.boundingBox())!.y).toBeGreaterThanOrEqual(input.y + input.height);
    }
    // The video picker keeps its distance below the tried photo, not glued to it.
    const photo = (await page.getByRole('img', { name: 'The photo you tried' }).boundingBox())!;
    const video = (await page.getByText('Or a video (MP4, MOV, WebM)').boundingBox())!;
    expect(video.y - (photo.y + photo.height)).toBeGreaterThanOrEqual(12);
    await page.screenshot({ path: join(SCREENSHOTS, 'detection-deploy.png'), fullPage: true });

    // The key is shown once: leaving asks first until the user says it is saved.
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await page.getByRole('link', { name: 'History' }).click();
    await page
      .getByRole('list', { name: 'Events' })
      .getByText("Deployment 'production' created from Iteration 2")
      .waitFor();
    // Filtered by who caused the events: everything here was the user's doing.
    // Runs named in the training form's words, not by their ids ('tiny-detector').
    await page
      .getByRole('list', { name: 'Events' })
      .getByText('Iteration 1 queued (tiny detector from scratch, 12 epochs)')
      .waitFor();
    // The number a run reserves first is told with the run, not as a sentence of its own.
    await expect(
      page
        .getByRole('list', { name: 'Events' })
        .getByText(/set aside for a new iteration/)
        .count(),
    ).resolves.toBe(0);
    await page.getByLabel('Caused by').selectOption({ label: 'the system on its own' });
    await page.getByText('No event matches these filters.').waitFor();
    await page.getByLabel('Caused by').selectOption({ label: 'you (detective)' });
    await page
      .getByRole('list', { name: 'Events' })
      .getByText("Deployment 'production' created from Iteration 2")
      .waitFor();
    await expect(page.getByRole('list', { name: 'Events' }).getByText('by detective').count()).resolves.toBeGreaterThan(
      0,
    );
    await page
      .getByRole('list', { name: 'Events' })
      .getByRole('button', { name: 'Dataset as of here' })
      .first()
      .click();
    await page.getByRole('complementary', { name: 'Dataset as of the chosen event' }).getByText('0 images').waitFor();

    expect(harness.problems()).toEqual([]);
  }, 240_000);

  it('edits boxes: moves and resizes by dragging, relabels, nudges and deletes by keyboard, and saves what is shown', async () => {
    const [scene] = await squareScenes([RED], 1, 9, 32);
    const page = await harness.newPage();
    await signUp(page, 'editor');
    await page.getByLabel('Project name').fill('Boxes');
    await page.getByLabel('Detection (boxes around objects)').check();
    await page.getByRole('button', { name: 'Create project' }).click();
    for (const label of ['red', 'blue']) {
      await page.getByLabel('New label').fill(label);
      await page.getByRole('button', { name: 'Add label' }).click();
      await page.getByRole('button', { name: `Remove label ${label}` }).waitFor();
    }
    await page
      .getByLabel('Images or zip archives to upload')
      .setInputFiles({ name: 'one.png', mimeType: 'image/png', buffer: scene.png });
    await page.getByRole('listbox', { name: 'Images' }).getByRole('option').first().dblclick();
    await page.getByRole('heading', { name: 'one.png' }).waitFor();

    const boxes = page.getByRole('list', { name: 'Boxes' }).getByRole('listitem');
    await drawBox(page, { x: 0.1, y: 0.1, width: 0.3, height: 0.3 });
    await expect(boxes.first().textContent()).resolves.toBe('red at 10%, 10% · 30×30%');
    const surface = (await page.getByRole('application').boundingBox())!;
    const at = (x: number, y: number) => [surface.x + x * surface.width, surface.y + y * surface.height] as const;
    // Move: drag the middle of the box by a fifth of the image.
    await page.mouse.move(...at(0.25, 0.25));
    await page.mouse.down();
    await page.mouse.move(...at(0.45, 0.45), { steps: 4 });
    await page.mouse.up();
    await expect(boxes.first().textContent()).resolves.toBe('red at 30%, 30% · 30×30%');
    // Resize: drag the bottom-right corner.
    await page.mouse.move(...at(0.6, 0.6));
    await page.mouse.down();
    await page.mouse.move(...at(0.8, 0.7), { steps: 4 });
    await page.mouse.up();
    await expect(boxes.first().textContent()).resolves.toBe('red at 30%, 30% · 50×40%');
    // Keyboard: relabel, nudge, grow.
    await page.keyboard.press('2');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Shift+ArrowDown');
    await expect(boxes.first().textContent()).resolves.toBe('blue at 29%, 30% · 50×41%');
    // A second box, deleted again.
    await drawBox(page, { x: 0.05, y: 0.8, width: 0.1, height: 0.1 });
    await expect(boxes.count()).resolves.toBe(2);
    await page.keyboard.press('Delete');
    await expect(boxes.count()).resolves.toBe(1);
    await page.getByText('Unsaved changes').waitFor();
    await page.getByRole('button', { name: 'Save boxes and go to the next image' }).click();
    await page.getByText('Unsaved changes').waitFor({ state: 'detached' });

    const projectId = /\/projects\/([^/]+)/.exec(page.url())![1];
    const token = await sessionToken(page);
    const images = await harness.testApp.http
      .get(`/v1/projects/${projectId}/images`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    const [region] = images.body.items[0].regions;
    expect(region.label.name).toBe('blue');
    expect(region.x).toBeCloseTo(0.29, 2);
    expect(region.y).toBeCloseTo(0.3, 2);
    expect(region.width).toBeCloseTo(0.5, 2);
    expect(region.height).toBeCloseTo(0.41, 2);
    expect(images.body.items[0].regions).toHaveLength(1);
    expect(harness.problems()).toEqual([]);
  }, 120_000);
});
