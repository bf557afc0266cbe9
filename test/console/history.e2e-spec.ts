import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { EventStore } from '@diyml/event-store';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { type ConsoleHarness, signUpWithClient, startConsole, SCREENSHOTS } from '../support/browser.js';

/** A plain photo of one colour: three colours, three different images. */
const photo = (r: number) =>
  sharp({ create: { width: 24, height: 24, channels: 3, background: { r, g: 40, b: 40 } } })
    .png()
    .toBuffer();

describe('console: the history an auditor reads', () => {
  let harness: ConsoleHarness;

  beforeAll(async () => {
    harness = await startConsole();
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('tells each change as a sentence, in order, with who and when, and keeps the raw events behind a disclosure', async () => {
    const page = await harness.newPage();
    const client = await signUpWithClient(harness, page, 'historian');
    const project = await client.createProject('classification', ['red', 'blue'], 'Colours');
    const uploaded = await client.upload(project.id, await Promise.all([photo(200), photo(120), photo(60)]));
    await client.http
      .post(`/v1/projects/${project.id}/images/labels`)
      .set('Authorization', client.auth)
      .send({ items: uploaded.map((image) => ({ imageId: image.id, label: 'red' })) })
      .expect(200);
    await client.http
      .put(`/v1/projects/${project.id}/images/${uploaded[0].id}/label`)
      .set('Authorization', client.auth)
      .send({ label: 'blue' })
      .expect(200);
    await client.http
      .patch(`/v1/projects/${project.id}/labels/${project.labels.blue}`)
      .set('Authorization', client.auth)
      .send({ name: 'navy' })
      .expect(200);
    // Features computed in the background after the upload: written with the uploader in its metadata, as the
    // embedding job does, yet done by the system.
    const me = await client.http.get('/v1/users/me').set('Authorization', client.auth).expect(200);
    // Twice in a row, after two requests (as after two uploads): told once, with the count it ended at.
    for (const [table, imageCount] of [
      ['0123456789abcdef', 2],
      ['fedcba9876543210', 3],
    ] as const) {
      await harness.testApp.app.get(EventStore).append(
        `embedding-cache-${project.id}-${table}`,
        [
          {
            type: 'EmbeddingTableUpdated',
            v: 1,
            data: {
              projectId: project.id,
              space: { backbone: 'mobilenet-v2', layer: 'features', preprocessing: 'resize-224' },
              tableSha256: '0'.repeat(64),
              imageCount,
              computed: 6,
              updatedAt: new Date().toISOString(),
            },
          },
        ],
        {
          expectedRevision: 'no_stream',
          metadata: {
            userId: me.body.id,
            correlationId: randomUUID(),
            causationId: null,
            at: new Date().toISOString(),
          },
        },
      );
    }
    // An event of a type this console has never heard of (a newer server wrote it): it is still told.
    await harness.testApp.app
      .get(EventStore)
      .append(`widget-${randomUUID()}`, [{ type: 'WidgetFrobbed', v: 3, data: { projectId: project.id, size: 3 } }], {
        expectedRevision: 'no_stream',
        metadata: { userId: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString() },
      });

    await page.goto(`/projects/${project.id}/history`);
    const events = page.getByRole('list', { name: 'Events' });
    const row = (sentence: string) => events.locator(':scope > li').filter({ hasText: sentence });
    await events.getByText('Widget frobbed (event WidgetFrobbed)').waitFor();
    await expect(events.locator(':scope > li .sentence').allTextContents()).resolves.toEqual([
      "Project 'Colours' created (classification)",
      "Label 'red' added",
      "Label 'blue' added",
      'Uploaded 3 images',
      'Labeled 3 images red',
      // The label's name when it happened, not today's.
      'Labeled image-0.png blue',
      "Label 'blue' renamed to 'navy'",
      'Prepared 3 images for training ahead of time, after new photos or settings: training starts sooner',
      'Widget frobbed (event WidgetFrobbed)',
    ]);

    // Who and when: the user by name, the system for the event no one caused, relative and absolute times.
    const labeled = row('Labeled 3 images red');
    await expect(labeled.locator('.actor').textContent()).resolves.toBe('by historian');
    const unknown = row('Widget frobbed');
    await expect(unknown.locator('.actor').textContent()).resolves.toBe('by the system');
    await expect(row('Prepared 3 images for training').locator('.actor').textContent()).resolves.toBe('by the system');
    await expect(row('Prepared 3 images for training').locator('summary').textContent()).resolves.toBe('2 raw events');
    await expect(labeled.locator('time').textContent()).resolves.toMatch(/^(just now|\d+ minutes? ago) · \S/);

    // The raw types, versions and ids are folded away until asked for.
    const raw = labeled.getByRole('list', { name: 'Raw events' });
    await expect(raw.isVisible()).resolves.toBe(false);
    await labeled.locator('summary', { hasText: '3 raw events' }).click();
    await expect(raw.getByRole('listitem').locator('code').first().textContent()).resolves.toBe('ImageLabeled v2');
    await expect(raw.getByRole('listitem').count()).resolves.toBe(3);
    await expect(raw.textContent()).resolves.toContain(uploaded[2].id);
    await unknown.locator('summary').click();
    await expect(unknown.getByRole('list', { name: 'Raw events' }).locator('code').first().textContent()).resolves.toBe(
      'WidgetFrobbed v3',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'history.png'), fullPage: true });
    expect(await harness.accessibilityViolations(page)).toEqual([]);

    // A type is a whole name: part of one matches nothing, and the page says so and how to pick one; the field keeps
    // suggesting every type seen, not only those of the (empty) filtered list.
    const typeField = page.getByRole('group', { name: 'Filter events' }).getByLabel('Event type');
    await typeField.fill('label');
    await page
      .getByText(
        "No event of type “label”: a type is a whole name, such as ProjectCreated; choose one from the field's suggestions.",
      )
      .waitFor();
    await expect(page.locator('#event-types option').count()).resolves.toBeGreaterThanOrEqual(5);
    await typeField.fill('ImageLabeled');
    await row('Labeled 3 images red').waitFor();
    // The two labelings alone (the whole label of the batch, and the one image relabeled), told as in the whole
    // history: the file name and the label's name then, though the upload and the rename are not on this page.
    await expect(events.locator(':scope > li .sentence').allTextContents()).resolves.toEqual([
      'Labeled 3 images red',
      'Labeled image-0.png blue',
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, 'console2-history-filtered.png'), fullPage: true });
    expect(harness.problems()).toEqual([]);
  }, 120_000);

  it("tells a COCO zip's upload as one sentence for its images and one for their boxes, not two per image", async () => {
    const page = await harness.newPage();
    const client = await signUpWithClient(harness, page, 'cataloguer');
    const project = await client.createProject('detection', ['cup'], 'Kitchen');
    const coco = {
      images: [1, 2, 3].map((id) => ({ id, file_name: `shelf-${id}.png`, width: 24, height: 24 })),
      // 'plate' is new: the upload adds the label, in the same request as the images.
      categories: [
        { id: 1, name: 'cup' },
        { id: 2, name: 'plate' },
      ],
      annotations: [1, 2, 3].map((id) => ({ id, image_id: id, category_id: id === 3 ? 2 : 1, bbox: [2, 2, 10, 10] })),
    };
    const archive = zipSync({
      '_annotations.coco.json': new TextEncoder().encode(JSON.stringify(coco)),
      'shelf-1.png': await photo(200),
      'shelf-2.png': await photo(120),
      'shelf-3.png': await photo(60),
    });
    await page.goto(`/projects/${project.id}/dataset`);
    await page
      .getByLabel('Images or zip archives to upload')
      .setInputFiles({ name: 'shelf.zip', mimeType: 'application/zip', buffer: Buffer.from(archive) });
    await page.getByRole('status').filter({ hasText: '3 uploaded.' }).waitFor();

    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'History' }).click();
    const events = page.getByRole('list', { name: 'Events' });
    await events.getByText('Uploaded 3 images').waitFor();
    await expect(events.locator(':scope > li .sentence').allTextContents()).resolves.toEqual([
      "Project 'Kitchen' created (detection)",
      "Label 'cup' added",
      "Label 'plate' added",
      'Uploaded 3 images',
      'Set the boxes of 3 images',
    ]);
    // The upload's claims on the images' content are told with the images, not with the label added before them.
    const plateAdded = events.locator(':scope > li').filter({ hasText: "Label 'plate' added" });
    await expect(plateAdded.locator('summary').textContent()).resolves.toBe('Raw event');
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('tells an upload cut by the end of a page of events whole, once the rest is loaded, not by its first part', async () => {
    const page = await harness.newPage();
    const client = await signUpWithClient(harness, page, 'bulk');
    const project = await client.createProject('detection', ['cup'], 'Many');
    // 3 events per image (its content claimed, uploaded, its box set): the first page of 100 ends inside this request,
    // in both of its sentences.
    const ids = Array.from({ length: 40 }, (_, index) => index + 1);
    const coco = {
      images: ids.map((id) => ({ id, file_name: `shelf-${id}.png`, width: 24, height: 24 })),
      categories: [{ id: 1, name: 'cup' }],
      annotations: ids.map((id) => ({ id, image_id: id, category_id: 1, bbox: [2, 2, 10, 10] })),
    };
    const files: Record<string, Uint8Array> = {
      '_annotations.coco.json': new TextEncoder().encode(JSON.stringify(coco)),
    };
    for (const id of ids) files[`shelf-${id}.png`] = await photo(id * 5);
    await client.http
      .post(`/v1/projects/${project.id}/images/import`)
      .set('Authorization', client.auth)
      .attach('archive', Buffer.from(zipSync(files)), 'shelf.zip')
      .expect(201);
    await page.goto(`/projects/${project.id}/history`);
    const events = page.getByRole('list', { name: 'Events' });
    await events.getByText("Label 'cup' added").waitFor();
    await expect(events.locator(':scope > li .sentence').allTextContents()).resolves.toEqual([
      "Project 'Many' created (detection)",
      "Label 'cup' added",
    ]);
    await page.getByRole('button', { name: 'Load more' }).click();
    await events.getByText('Uploaded 40 images').waitFor();
    await expect(events.locator(':scope > li .sentence').allTextContents()).resolves.toEqual([
      "Project 'Many' created (detection)",
      "Label 'cup' added",
      'Uploaded 40 images',
      'Set the boxes of 40 images',
    ]);
    await expect(page.getByRole('button', { name: 'Load more' }).count()).resolves.toBe(0);
    expect(harness.problems()).toEqual([]);
  }, 60_000);

  it('says what it is loading while the API has not answered, on every screen that waits for a list', async () => {
    const page = await harness.newPage();
    const client = await signUpWithClient(harness, page, 'patient');
    const project = await client.createProject('classification', ['red', 'blue'], 'Slow');
    // The project's answers are held until each screen has been read, then let through. Once let through, the
    // screen's requests pass until the next screen is asked for: the browser can show the loading state before
    // Playwright has handed the request to the route, and a request held after its release would never be answered.
    const held: (() => void)[] = [];
    let holding = true;
    await page.route(`**/v1/projects/${project.id}**`, (route) =>
      holding ? held.push(() => void route.continue()) : void route.continue(),
    );
    const release = () => {
      holding = false;
      held.splice(0).forEach((answer) => answer());
    };
    await page.goto(`/projects/${project.id}/settings`);
    await page.getByRole('status').filter({ hasText: 'Loading the project…' }).waitFor();
    release();
    await page.getByRole('button', { name: 'Download the project archive' }).waitFor();
    // Each screen first asks for a list no screen before it asked for (a list already read shows at once).
    for (const [tab, loading, loaded] of [
      ['Smart labeling', 'Loading the iterations…', 'No completed iteration yet'],
      ['Deploy', 'Loading the iterations and deployments…', 'Nothing to deploy yet'],
      ['Usage', 'Loading the calls…', 'No prediction calls in this period yet.'],
      ['History', 'Loading the history…', "Project 'Slow' created"],
      ['Analysis', 'Loading the analysis…', 'Class balance'],
    ]) {
      holding = true;
      await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: tab }).click();
      await page.getByRole('status').filter({ hasText: loading }).waitFor();
      release();
      await page.getByText(loaded).first().waitFor();
      await expect(page.getByText(loading).count()).resolves.toBe(0);
    }
    await page.unroute(`**/v1/projects/${project.id}**`);
    expect(harness.problems()).toEqual([]);
  }, 60_000);
});
