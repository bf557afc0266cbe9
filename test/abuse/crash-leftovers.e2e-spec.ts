import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageContentStream } from '@diyml/datasets';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { EventStore } from '@diyml/event-store';
import { ApiClient } from '../support/api-client.js';
import { registerAndLogIn, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The state a kill -9 in the middle of an upload leaves: a half-written temporary blob file, and a content
 * claim appended whose image was never recorded. A restart cleans both.
 */
describe('leftovers of a crash, cleaned at start', () => {
  let testApp: TestApp;
  let auth: string;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    ({ auth } = await registerAndLogIn(testApp));
    client = new ApiClient(testApp, auth);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('removes temporary blob files and unpacked images and releases the claim of an upload that never completed, so the file uploads again', async () => {
    const project = await client.createProject('classification', [], 'crashed');
    const bytes = await generateImage(4242);
    const sha256 = createHash('sha256').update(bytes).digest('hex');

    // The crash: a temporary file two minutes old, and a claim 20 s old naming an image that was never recorded.
    const folder = join(testApp.dataDir, 'blobs', sha256.slice(0, 2));
    mkdirSync(folder, { recursive: true });
    const temporary = join(folder, `.tmp-${sha256}-0123456789ab`);
    writeFileSync(temporary, bytes.subarray(0, 100));
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    utimesSync(temporary, twoMinutesAgo, twoMinutesAgo);
    // And an archive upload the crash interrupted, in DATA_DIR/uploads.
    const uploads = join(testApp.dataDir, 'uploads');
    mkdirSync(uploads, { recursive: true });
    const upload = join(uploads, randomUUID());
    writeFileSync(upload, bytes);
    utimesSync(upload, twoMinutesAgo, twoMinutesAgo);
    // And the folder of images a dataset import was unpacking.
    const unpacking = join(uploads, 'import-crashed');
    mkdirSync(unpacking);
    writeFileSync(join(unpacking, 'entry-1'), bytes);
    utimesSync(unpacking, twoMinutesAgo, twoMinutesAgo);
    const lostImageId = randomUUID();
    await testApp.app
      .get(EventStore)
      .append(
        imageContentStream(project.id, sha256),
        [{ type: 'ImageContentClaimed', v: 1, data: { projectId: project.id, sha256, imageId: lostImageId } }],
        {
          expectedRevision: 'no_stream',
          metadata: {
            userId: null,
            correlationId: 'crashed-upload',
            causationId: null,
            at: new Date(Date.now() - 20_000).toISOString(),
          },
        },
      );
    await testApp.close();

    testApp = await startTestApp({ dataDir: testApp.dataDir });
    client = new ApiClient(testApp, auth);
    expect(existsSync(temporary)).toBe(false);
    expect(readdirSync(uploads)).toEqual([]);
    expect(readdirSync(folder).filter((name) => name.startsWith('.tmp-'))).toEqual([]);

    const [item] = await client.upload(project.id, [bytes]);
    expect(item).toMatchObject({ status: 'created' });
    expect(item.id).not.toBe(lostImageId);
    await testApp.http.get(`/v1/projects/${project.id}/images/${item.id}`).set('Authorization', auth).expect(200);
    // The same bytes again are now a duplicate of the image that exists.
    const [again] = await client.upload(project.id, [bytes]);
    expect(again).toMatchObject({ status: 'duplicate', id: item.id });
  });
});
