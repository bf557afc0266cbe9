import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ApiClient } from '../support/api-client.js';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';
import { BLUE, colouredSquares } from '../support/generated-images.js';
import { modelZip, tinyClassifier } from '../support/tiny-models.js';

// The quick test panel's "Image URL": the photo at a URL tested without downloading it first, and the API's reason
// shown when the URL cannot be used.
describe('console: quick test of a photo at a URL', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let client: ApiClient;
  let server: Server;
  let photos: string;
  let bluePhoto: Buffer;
  let projectId: string;
  let iterationPage: string;
  let quickTestPath: string;

  beforeAll(async () => {
    [bluePhoto] = await colouredSquares(BLUE, 1, 91);
    server = createServer((request, response) => {
      if (request.url === '/photos/blue.png')
        return response.writeHead(200, { 'content-type': 'image/png' }).end(bluePhoto);
      if (request.url === '/notes.txt')
        return response.writeHead(200, { 'content-type': 'text/plain' }).end('not an image');
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    photos = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    harness = await startConsole({ URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1', URL_FETCH_TIMEOUT_MS: 5000 });
    page = await harness.newPage();
    client = await signUpWithClient(harness, page, 'url-tester');
    const project = await client.createProject('classification', ['red', 'blue'], 'colours by URL');
    const imported = await client.http
      .post(`/v1/projects/${project.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    projectId = project.id;
    iterationPage = `/projects/${project.id}/iterations/${imported.body.id}`;
    quickTestPath = `/v1/projects/${project.id}/iterations/${imported.body.id}/quick-test`;
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('tests the photo at an image URL as its bytes would be, and shows why a URL was refused', async () => {
    const answer = (
      await client.http
        .post(`${quickTestPath}?threshold=0`)
        .set('Authorization', client.auth)
        .set('Content-Type', 'image/png')
        .send(bluePhoto)
        .expect(200)
    ).body as { predictions: { label: string; probability: number }[] };
    await page.goto(iterationPage);
    const quickTest = page.getByRole('region', { name: 'Quick test' });
    const byUrl = quickTest.getByRole('form', { name: 'Test a photo at a URL' });
    const photoUrl = `${photos}/photos/blue.png`;
    await byUrl.getByLabel('Image URL').fill(photoUrl);
    await byUrl.getByRole('button', { name: 'Test the URL' }).click();
    await quickTest.getByRole('link', { name: photoUrl }).waitFor();
    await expect(
      quickTest.getByRole('list', { name: 'Predictions' }).getByRole('listitem').allTextContents(),
    ).resolves.toEqual(
      answer.predictions.map(({ label, probability }) => `${label}: ${(probability * 100).toFixed(1)}%`),
    );
    // Named and linked, not drawn: the console shows images from its own server only.
    await expect(quickTest.getByRole('img').count()).resolves.toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'quick-test-url.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    const refusal = (
      await client.http
        .post(`${quickTestPath}/url`)
        .set('Authorization', client.auth)
        .send({ url: `${photos}/notes.txt` })
        .expect(422)
    ).body as { code: string; message: string };
    expect(refusal.code).toBe('URL_NOT_AN_IMAGE');
    await byUrl.getByLabel('Image URL').fill(`${photos}/notes.txt`);
    await byUrl.getByRole('button', { name: 'Test the URL' }).click();
    await quickTest.getByRole('alert').filter({ hasText: refusal.message }).waitFor();
    await expect(quickTest.getByRole('list', { name: 'Predictions' }).count()).resolves.toBe(0);
    expect(harness.problems([/status of 422/])).toEqual([]);
  }, 60_000);

  it('adds a photo tested by its URL to the dataset with the label chosen, and says when it is there already', async () => {
    await page.goto(iterationPage);
    const quickTest = page.getByRole('region', { name: 'Quick test' });
    const byUrl = quickTest.getByRole('form', { name: 'Test a photo at a URL' });
    const photoUrl = `${photos}/photos/blue.png`;
    const testUrl = async () => {
      await byUrl.getByLabel('Image URL').fill(photoUrl);
      await byUrl.getByRole('button', { name: 'Test the URL' }).click();
      await quickTest.getByRole('list', { name: 'Predictions' }).waitFor();
    };
    await testUrl();
    const addForm = quickTest.getByRole('form', { name: 'Add the photo to the dataset' });
    await addForm.getByLabel('Label').selectOption('blue');
    await addForm.getByRole('button', { name: 'Add to the dataset' }).click();
    // The server fetched the photo and named it after the URL's last part, as the dataset now lists it.
    await quickTest.getByRole('status').filter({ hasText: 'Added to the dataset labeled blue as blue.png.' }).waitFor();
    const images = (
      await client.http.get(`/v1/projects/${projectId}/images`).set('Authorization', client.auth).expect(200)
    ).body.items as { filename: string; label: { name: string } | null }[];
    expect(images.map((image) => [image.filename, image.label?.name])).toEqual([['blue.png', 'blue']]);

    // The same photo again: the API's answer (a duplicate) is said, and nothing is added.
    await testUrl();
    await addForm.getByRole('button', { name: 'Add to the dataset' }).click();
    await quickTest
      .getByRole('status')
      .filter({ hasText: 'This photo is already in the dataset: nothing was added.' })
      .waitFor();
    const after = await client.http.get(`/v1/projects/${projectId}/images`).set('Authorization', client.auth);
    expect(after.body.items).toHaveLength(1);
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems([/status of 422/])).toEqual([]);
  }, 60_000);
  it('adds a multilabel photo tested by its URL with the labels ticked, those the model gives from 50% at first', async () => {
    // Two labels of a softmax: one of them has 50% or more, so one label is ticked at first.
    const multilabel = await client.createProject('multilabel', ['red', 'blue'], 'colours together by URL');
    const imported = await client.http
      .post(`/v1/projects/${multilabel.id}/models`)
      .set('Authorization', client.auth)
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'], { task: 'multilabel' })), 'model.zip')
      .expect(201);
    const photoUrl = `${photos}/photos/blue.png`;
    const answer = (
      await client.http
        .post(`/v1/projects/${multilabel.id}/iterations/${imported.body.id}/quick-test/url?threshold=0`)
        .set('Authorization', client.auth)
        .send({ url: photoUrl })
        .expect(200)
    ).body as { predictions: { label: string; probability: number }[] };
    const given = answer.predictions.filter((prediction) => prediction.probability >= 0.5).map(({ label }) => label);
    expect(given).toHaveLength(1);

    await page.goto(`/projects/${multilabel.id}/iterations/${imported.body.id}`);
    const quickTest = page.getByRole('region', { name: 'Quick test' });
    const byUrl = quickTest.getByRole('form', { name: 'Test a photo at a URL' });
    await byUrl.getByLabel('Image URL').fill(photoUrl);
    await byUrl.getByRole('button', { name: 'Test the URL' }).click();
    await quickTest.getByRole('list', { name: 'Predictions' }).waitFor();
    const addWith = quickTest.getByRole('group', { name: 'Labels to add it with' });
    for (const label of ['red', 'blue'])
      await expect(addWith.getByLabel(label).isChecked()).resolves.toBe(given.includes(label));

    // Ticked by hand: both labels, the one the model did not give too.
    await addWith.getByLabel(given[0] === 'red' ? 'blue' : 'red').check();
    await quickTest.getByRole('button', { name: 'Add to the dataset' }).click();
    await quickTest
      .getByRole('status')
      .filter({ hasText: 'Added to the dataset labeled red, blue as blue.png.' })
      .waitFor();
    const images = (
      await client.http.get(`/v1/projects/${multilabel.id}/images`).set('Authorization', client.auth).expect(200)
    ).body.items as { filename: string; labels: { name: string }[] }[];
    expect(images.map((image) => [image.filename, image.labels.map((label) => label.name)])).toEqual([
      ['blue.png', ['red', 'blue']],
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, 'quick-test-url-multilabel.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);
    expect(harness.problems([/status of 422/])).toEqual([]);
  }, 60_000);
});
