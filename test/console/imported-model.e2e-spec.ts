import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { colouredSquares, RED } from '../support/generated-images.js';
import { modelZip, tinyClassifier } from '../support/tiny-models.js';

/** A model trained elsewhere, imported through the console: its page says what is known of it, and nothing false. */
describe('console: an imported model', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;

  beforeAll(async () => {
    harness = await startConsole();
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'importer');
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('imports a model zip from the train page and shows its format, classes and import time, without training facts', async () => {
    const project = await client.createProject('classification', ['red', 'blue'], 'colours');
    await page.goto(`/projects/${project.id}/train`);
    const form = page.getByRole('form', { name: 'Import a model' });

    // A file that is no model: the API's reason in words, not its JSON body.
    await form
      .getByLabel('Model file')
      .setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip') });
    await form.getByRole('button', { name: 'Import' }).click();
    const refusal = form.getByRole('alert');
    await refusal.filter({ hasText: 'The file is not a model archive' }).waitFor();
    await expect(refusal.textContent()).resolves.not.toContain('{');

    await form.getByLabel('Model file').setInputFiles({
      name: 'colours.zip',
      mimeType: 'application/zip',
      buffer: modelZip(await tinyClassifier(['red', 'blue'])),
    });
    await form.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('heading', { name: /^Iteration 1/ }).waitFor();
    const facts = page.getByRole('definition');
    const fact = async (term: string) =>
      (await page.getByRole('term').filter({ hasText: term }).locator('xpath=following-sibling::dd[1]').textContent())!;
    await expect(fact('Imported from')).resolves.toBe('a diyml model export (.zip)');
    await expect(fact('Classes')).resolves.toBe('red, blue');
    await expect(fact('Architecture (from its metadata)')).resolves.toBe('small-cnn');
    // Imported just now: today's date, as the browser writes it.
    const today = await page.evaluate(() => new Date().toLocaleDateString());
    await expect(fact('Imported on')).resolves.toContain(today);
    await expect(facts.count()).resolves.toBe(4);
    const text = (await page.locator('section.iteration').textContent())!;
    expect(text).toContain('Imported model: trained elsewhere');
    expect(text).not.toMatch(/seed \d|\d+ images ·/);
    // Nothing to train again or compare: said so, rather than a button that can only fail.
    await page.getByText('This model was imported: there is no dataset or configuration here').waitFor();
    await expect(page.getByRole('button', { name: 'Reproduce this iteration' }).count()).resolves.toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'imported-model.png'), fullPage: true });
    // What the page reads: the API has no seed nor image count for it, and says what it was imported as.
    const iterationId = /\/iterations\/([^/?]+)/.exec(page.url())![1];
    await expect(client.iteration(project.id, iterationId)).resolves.toMatchObject({
      imported: true,
      seed: null,
      imageCount: null,
      architecture: 'small-cnn',
      importedModel: { format: 'diyml', labels: ['red', 'blue'] },
    });

    // The iterations list says it has no training images rather than "0".
    await page.goto(`/projects/${project.id}/train`);
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Iteration 1' }) });
    await expect(row.getByRole('cell').nth(3).textContent()).resolves.toBe('none (imported)');
    await page.screenshot({ path: join(SCREENSHOTS, 'imported-model-listed.png'), fullPage: true });
    expect(harness.problems([/\/models .*400|status of 400/])).toEqual([]);
  }, 120_000);

  it('tries the deployed model with a minimum probability typed in percent, and says in words when no prediction comes back', async () => {
    await page.getByRole('link', { name: 'Iteration 1' }).click();
    await page.getByRole('link', { name: 'Deploy this iteration' }).click();
    // The iteration picker sits under its label, like the name field beside it, not after the label's text.
    const deployForm = page.getByRole('form', { name: 'Deploy an iteration' });
    const pickerBox = (await deployForm.getByRole('combobox').boundingBox())!;
    const labelBox = (await deployForm.locator('label').filter({ hasText: 'Iteration' }).boundingBox())!;
    expect(pickerBox.x - labelBox.x).toBeLessThan(4);
    expect(pickerBox.y).toBeGreaterThan(labelBox.y + 10);
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByTestId('deployment-key').waitFor();
    // The key and its copy button stand apart.
    const [shownKey, copy] = [
      (await page.getByTestId('deployment-key').boundingBox())!,
      (await page.getByRole('button', { name: 'Copy key' }).boundingBox())!,
    ];
    expect(copy.x - (shownKey.x + shownKey.width)).toBeGreaterThanOrEqual(4);
    const [photo] = await colouredSquares(RED, 1, 5);
    const predictions = page.getByRole('list', { name: 'Predictions' }).getByRole('listitem');
    // The API is asked with the fraction of what was typed in percent.
    const tryWith = async (minimum: string, threshold: string) => {
      await page.getByLabel('Minimum probability').fill(minimum);
      const answered = page.waitForResponse((response) => response.url().endsWith(`?threshold=${threshold}`));
      await page
        .getByLabel('Drop a photo here or choose one')
        .setInputFiles({ name: `try-${minimum}.png`, mimeType: 'image/png', buffer: photo });
      expect((await answered).status()).toBe(200);
    };
    const listed = (count: number) =>
      page.waitForFunction(`document.querySelectorAll('ol[aria-label="Predictions"] li').length === ${count}`);
    // The field stands apart from its label's words on their line.
    await expect(gapAfterLabel(page.getByLabel('Minimum probability'))).resolves.toBeGreaterThanOrEqual(4);
    await tryWith('0', '0');
    await listed(2);
    // 50 % keeps the top one of two classes only: the field is in percent, like the scores beside it.
    await tryWith('50', '0.5');
    await listed(1);
    await expect(predictions.allTextContents()).resolves.toEqual([expect.stringMatching(/: (5\d|[6-9]\d)\.\d%$/)]);

    // A proxy in front of the API answers with an HTML page: the user reads what happened and what to try, not a parse error.
    await page.route('**/v1/predict/**', (route) =>
      route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body>Bad gateway</body></html>' }),
    );
    await page
      .getByLabel('Drop a photo here or choose one')
      .setInputFiles({ name: 'behind-a-proxy.png', mimeType: 'image/png', buffer: photo });
    const failure = page.getByRole('alert').filter({ hasText: 'The server answered 502' });
    await failure.waitFor();
    await expect(failure.textContent()).resolves.toMatch(
      /^The server answered 502( Bad Gateway)? without saying why\. Try again in a moment; if it keeps failing, ask whoever runs this server\.$/,
    );
    await page.unroute('**/v1/predict/**');

    // No answer at all (the network is down): said in words, not the browser's 'Failed to fetch'.
    await page.route('**/v1/predict/**', (route) => route.abort('internetdisconnected'));
    await page
      .getByLabel('Drop a photo here or choose one')
      .setInputFiles({ name: 'offline.png', mimeType: 'image/png', buffer: photo });
    await page
      .getByRole('alert')
      .filter({ hasText: 'The server could not be reached. Check your connection and try again.' })
      .waitFor();
    await page.unroute('**/v1/predict/**');

    // Opened again, the page no longer knows the key: it says why the photo picker is disabled and how to enable it.
    // (Saved first, as its page asks before a reload while the once-shown key is on screen.)
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await page.reload();
    const picker = page.getByLabel('Drop a photo here or choose one');
    const why = page.getByText("Paste this deployment's key above to try it");
    await why.waitFor();
    await expect(picker.isDisabled()).resolves.toBe(true);
    await page.getByLabel('Deployment key').fill('dpk_pasted');
    await expect(picker.isDisabled()).resolves.toBe(false);
    await expect(why.count()).resolves.toBe(0);

    // Undeploying breaks the apps calling the endpoint: asked once more, with a way back; then the deployment is gone.
    const card = page.getByRole('article', { name: 'Deployment production' });
    await card.getByRole('button', { name: 'Undeploy…' }).click();
    const confirmation = card.getByRole('group', { name: 'Confirm undeploying production' });
    await confirmation.getByText(/^Calls to this endpoint will fail from now on/).waitFor();
    await confirmation.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirmation.count()).resolves.toBe(0);
    await card.getByRole('button', { name: 'Undeploy…' }).click();
    // The confirmation has the focus: Enter confirms from the keyboard.
    await page.keyboard.press('Enter');
    await card.waitFor({ state: 'detached' });
    await page.reload();
    await page.getByRole('form', { name: 'Deploy an iteration' }).waitFor();
    await expect(page.getByRole('article').count()).resolves.toBe(0);
    expect(harness.problems([/\/models .*400|status of 400/, /status of 502/, /ERR_INTERNET_DISCONNECTED/])).toEqual(
      [],
    );
  }, 60_000);
});

/** Pixels between the end of a label's words and its field on the same line. */
const gapAfterLabel = (field: Locator) =>
  field.evaluate((element) => {
    const words = element.ownerDocument.createRange();
    words.selectNodeContents(element.closest('label')!.firstChild!);
    return element.getBoundingClientRect().left - words.getBoundingClientRect().right;
  });
