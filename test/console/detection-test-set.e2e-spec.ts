import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { BLUE, RED, squareScenes } from '../support/generated-images.js';
import { deployTinyDetector } from '../support/deployed-tiny-model.js';

/** The console's warning colour (--warning): taken, but not quite as sent. */
const AMBER = 'rgb(146, 64, 14)';

/** Refused on purpose: the COCO files that cannot be used, and the wrong deployment key. */
const REFUSED = [/status of 400/, /status of 401/];

/**
 * A detector tested on photos from the user's computer with the COCO file their labeling tool exported, and tried
 * on its deployment: each refusal says what to fix, and nothing is sent to the endpoint before the key is given.
 */
describe('console: a detector tested on a COCO test set, tried on its deployment with a key, and asked for suggestions', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;
  let project: { id: string };
  let iterationId: string;
  let deployment: { id: string; name: string; apiKey: string; keyPrefix: string };
  let photos: Buffer[];

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'coco-tester');
    project = await client.createProject('detection', ['red', 'blue'], 'squares');
    ({ iterationId, deployment } = await deployTinyDetector(client, project.id, ['red', 'blue'], 'boxes'));
    photos = (await squareScenes([RED, BLUE], 2, 41)).map((scene) => scene.png);
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('tests on photos with their COCO file, lists the boxes it cut or left out, and says how to fix a file it cannot use', async () => {
    const coco = {
      images: [
        { id: 1, file_name: 'export/held-1.png', width: 32, height: 32 },
        { id: 2, file_name: 'held-2.png', width: 32, height: 32 },
      ],
      categories: [
        { id: 1, name: 'red' },
        { id: 2, name: 'blue' },
      ],
      annotations: [
        { id: 10, image_id: 1, category_id: 1, bbox: [-4, 2, 20, 20] },
        { id: 11, image_id: 2, category_id: 7, bbox: [1, 1, 10, 10] },
        { id: 12, image_id: 2, category_id: 2, bbox: [4, 4, 12, 12] },
        { id: 13, image_id: 9, category_id: 1, bbox: [1, 1, 8, 8] },
      ],
    };
    const json = (name: string, value: string) => ({ name, mimeType: 'application/json', buffer: Buffer.from(value) });
    await page.goto(`/projects/${project.id}/iterations/${iterationId}`);
    const testSet = page.getByRole('form', { name: 'Test on labeled photos' });
    const choosePhotos = () =>
      testSet.getByLabel('Photos', { exact: true }).setInputFiles([
        { name: 'held-1.png', mimeType: 'image/png', buffer: photos[0] },
        { name: 'held-2.png', mimeType: 'image/png', buffer: photos[1] },
      ]);
    const send = async (file: ReturnType<typeof json>) => {
      await testSet.getByLabel(/^Their boxes: a COCO JSON file/).setInputFiles(file);
      await testSet.getByRole('button', { name: 'Test on 2 photos' }).click();
    };
    // A COCO file is what labeling tools export: it is the format offered first.
    await expect(testSet.getByRole('radio', { name: 'a COCO JSON file' }).isChecked()).resolves.toBe(true);

    // Not JSON: said before anything is sent.
    await choosePhotos();
    await send(json('broken.json', '{not json'));
    await testSet
      .getByRole('alert')
      .filter({ hasText: /^broken\.json is not JSON: choose the COCO JSON file exported with these photos/ })
      .waitFor();
    // JSON, but not COCO: the server's reason, told with the file's name and what to do.
    await send(json('incomplete.json', '{"images": []}'));
    await testSet
      .getByRole('alert')
      .filter({ hasText: /^incomplete\.json cannot be read as a COCO file: .*needs "images" and "categories"/ })
      .waitFor();
    await expect(testSet.getByRole('alert').textContent()).resolves.toMatch(
      /Choose the COCO JSON exported with these photos, or switch to a labels\.json\.$/,
    );
    // A photo the file does not list: named.
    await send(json('one-photo.json', JSON.stringify({ ...coco, images: [coco.images[0]] })));
    const problems = testSet.getByRole('list', { name: 'Problems with the test set' });
    await problems.waitFor();
    await expect(problems.getByRole('listitem').allTextContents()).resolves.toEqual([
      'held-2.png: is not among the images of the COCO file',
    ]);

    // A file chosen for one format is not sent as the other: switching empties the field.
    await testSet.getByRole('radio', { name: 'a labels.json file' }).check();
    await testSet.getByLabel(/^Their boxes: a labels\.json mapping/).waitFor();
    await testSet.getByRole('radio', { name: 'a COCO JSON file' }).check();
    await testSet.getByRole('button', { name: 'Test on 2 photos' }).click();
    await testSet
      .getByRole('alert')
      .filter({ hasText: 'Choose the COCO JSON file that gives the boxes of these photos.' })
      .waitFor();

    // Usable: the run starts, and the boxes cut to their photo or left out are listed, each with its photo and why.
    await send(json('annotations.coco.json', JSON.stringify(coco)));
    const issues = testSet.getByRole('list', { name: 'Boxes of annotations.coco.json not tested as written' });
    await issues.waitFor();
    await expect(issues.getByRole('listitem').allTextContents()).resolves.toEqual([
      // Naming no image of the file: the file's own.
      expect.stringMatching(
        /^annotations\.coco\.json, annotation id 13: left out\. It names image id 9, which .* does not list\.$/,
      ),
      'held-1.png, annotation id 10: changed. Its bbox [-4, 2, 20, 20] reaches outside the 32×32 image: cut to [0, 2, 16, 20].',
      expect.stringMatching(
        /^held-2\.png, annotation id 11: left out\. It names category id 7, which .* does not list\.$/,
      ),
    ]);
    await testSet
      .getByText('The test run started, but 3 boxes of annotations.coco.json were not tested as written:')
      .waitFor();
    await expect(testSet.getByRole('alert').count()).resolves.toBe(0);
    // The run was taken: the boxes are a warning in amber, not a refusal in the red of the errors above.
    await expect(issues.evaluate((list) => list.ownerDocument.defaultView!.getComputedStyle(list).color)).resolves.toBe(
      AMBER,
    );
    const runs = page.getByRole('table', { name: 'Test runs' });
    await runs.getByRole('cell', { name: 'your computer' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'detection-test-set-coco.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    // The run compares the model's boxes with the file's, the cut box as cut.
    // The run just requested opens by itself once done; its button is pressed, telling the run shown from others.
    const predictions = page.getByRole('heading', { name: /^2 images, 2 labeled, \d+ found at ≥ 50%/ });
    await predictions.waitFor({ timeout: 60_000 });
    const showPredictions = runs.getByRole('button', { name: /^Show predictions of the test run of / });
    await expect(showPredictions.getAttribute('aria-pressed')).resolves.toBe('true');
    // Pressed again, it hides them; and shows them again.
    await showPredictions.click();
    await predictions.waitFor({ state: 'detached' });
    await expect(showPredictions.getAttribute('aria-pressed')).resolves.toBe('false');
    await showPredictions.click();
    await predictions.waitFor();
    expect(harness.problems(REFUSED)).toEqual([]);
  }, 180_000);

  it("sends no photo to the deployment before its key is given, and tells a wrong key's refusal with what to check", async () => {
    const predictCalls: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/v1/predict/')) predictCalls.push(request.url());
    });
    await page.goto(`/projects/${project.id}/deploy`);
    const tryIt = page.getByRole('group', { name: 'Try boxes with its key' });
    await tryIt.getByRole('heading', { name: 'Try it' }).waitFor();
    // Dropped before the key: not sent, and the page says what to do first.
    // A string evaluated in the page: the server's type check has no DOM types.
    const dropped = await page.evaluateHandle(`(() => {
      const transfer = new DataTransfer();
      const bytes = Uint8Array.from(atob('${photos[0].toString('base64')}'), (char) => char.charCodeAt(0));
      transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      return transfer;
    })()`);
    await tryIt.dispatchEvent('drop', { dataTransfer: dropped });
    const firstTheKey = tryIt.getByRole('alert').filter({
      hasText:
        "dropped.png was not sent: paste this deployment's key above first, then drop it again. Or test it below with your login, no key needed.",
    });
    await firstTheKey.waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'try-it-dropped-without-key.png'), fullPage: true });
    expect(predictCalls).toEqual([]);

    // A wrong key: the API's refusal, then the key's known start and the way out.
    const key = tryIt.getByLabel('Deployment key');
    await key.fill('dpk_not-the-key');
    await expect(firstTheKey.count()).resolves.toBe(0);
    await tryIt
      .getByLabel('Drop a photo here or choose one')
      .setInputFiles({ name: 'wrong-key.png', mimeType: 'image/png', buffer: photos[0] });
    await expect(tryIt.getByRole('alert').textContent()).resolves.toBe(
      `The API key is not valid for this deployment. Paste the whole key of boxes: it starts ${deployment.keyPrefix}. If it is lost, rotate it above (apps using the old key then stop getting predictions).`,
    );
    expect(predictCalls).toHaveLength(1);

    // The right key, pasted with the spaces around it a mail adds: dropped, sent, answered.
    await key.fill(` ${deployment.apiKey} `);
    await tryIt.dispatchEvent('drop', { dataTransfer: dropped });
    await tryIt.getByRole('img', { name: 'The photo you tried' }).waitFor();
    await expect(tryIt.getByRole('alert').count()).resolves.toBe(0);
    expect(predictCalls).toHaveLength(2);
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems(REFUSED)).toEqual([]);
  }, 120_000);

  it('shows no row of disabled filters and batch buttons before there is a suggestion to filter or accept', async () => {
    await page.goto(`/projects/${project.id}/suggestions`);
    // Every photo is labeled: the page says to upload some, not to ask for suggestions that would bring none.
    await page.getByText('Every image has a label: upload photos without one to get suggestions.').waitFor();
    await expect(page.getByText(/ask for suggestions above/).count()).resolves.toBe(0);
    const filters = page.getByRole('group', { name: 'Filter suggestions' });
    await expect(filters.count()).resolves.toBe(0);
    await client.upload(project.id, [photos[0]], {}, 'unlabeled');
    await page.reload();
    await page.getByText('No pending suggestion: ask for suggestions above.').waitFor();
    await page.getByRole('button', { name: 'Suggest labels for unlabeled images' }).click();
    await page.getByRole('status').filter({ hasText: '1 of 1 images got suggestions.' }).waitFor({ timeout: 60_000 });
    await filters.getByRole('button', { name: 'Select all' }).click();
    await filters.getByRole('button', { name: 'Accept selected (1)' }).waitFor();
    // Or one card's own Accept, without selecting: offered only when the card has boxes to accept (with none, the
    // card offers Correct boxes alone), then accepted with one click.
    const card = page.getByRole('list', { name: 'Suggestions' }).getByRole('listitem').first();
    await filters.getByLabel('Accept boxes at least this probable').fill('100');
    await card.getByText('0 boxes to accept').waitFor();
    await expect(card.getByRole('button', { name: 'Accept unlabeled-0.png' }).count()).resolves.toBe(0);
    await filters.getByLabel('Accept boxes at least this probable').fill('1');
    await card.getByText(/^[1-9]\d* box(es)? to accept/).waitFor();
    await card.getByRole('button', { name: 'Accept unlabeled-0.png' }).click();
    await page.getByRole('status').filter({ hasText: '1 accepted.' }).waitFor();
    // The accepted card leaves once the suggestions are read again, which may come just after the status.
    await expect
      .poll(() => page.getByRole('list', { name: 'Suggestions' }).getByRole('listitem').count(), { timeout: 15_000 })
      .toBe(0);
    expect(harness.problems(REFUSED)).toEqual([]);
  }, 120_000);
});
