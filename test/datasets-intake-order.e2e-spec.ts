import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { EventStore } from '@diyml/event-store';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
  postgresTestServer,
} from '@diyml/core/testing/postgres-test-database.js';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

interface Item {
  filename: string;
  status: string;
  id?: string;
}

const server = postgresTestServer();

/** The files of one request are recorded together: what the user sees must still follow the order sent. */
describe.each([{ mode: 'embedded', postgres: false }, ...(server ? [{ mode: 'PostgreSQL', postgres: true }] : [])])(
  'a multi-file upload ($mode)',
  ({ postgres }) => {
    let testApp: TestApp;
    let auth: string;
    let database: PostgresTestDatabase | undefined;

    beforeAll(async () => {
      database = postgres ? await createPostgresTestDatabase(server!) : undefined;
      testApp = await startTestApp({ settings: database ? { POSTGRES_URL: database.url } : {} });
      ({ auth } = await registerAndLogIn(testApp));
    });
    afterAll(async () => {
      await testApp.destroy();
      if (database) rmSync(testApp.dataDir, { recursive: true, force: true });
      await database?.drop();
    });

    it('lists its images in the order sent, and of equal files the later ones are duplicates of the first', async () => {
      const project = await testApp.http
        .post('/v1/projects')
        .set('Authorization', auth)
        .send({ name: 'intake order', type: 'classification' })
        .expect(201);
      const projectId: string = project.body.id;
      // Sizes differ (8-32 px), so the files finish their checks out of order.
      const distinct = await Promise.all(Array.from({ length: 24 }, (_, i) => generateImage(7000 + i)));
      const sent = distinct.map((bytes, i) => ({ name: `file-${i}.png`, bytes }));
      sent.splice(5, 0, { name: 'again-0.png', bytes: distinct[0] });
      sent.splice(12, 0, { name: 'not-an-image.png', bytes: Buffer.from('not a picture') });
      sent.splice(20, 0, { name: 'again-10.png', bytes: distinct[10] });
      sent.push({ name: 'again-0-twice.png', bytes: distinct[0] });

      let request = testApp.http.post(`/v1/projects/${projectId}/images`).set('Authorization', auth);
      for (const file of sent) request = request.attach('images', file.bytes, { filename: file.name });
      const response = await request.expect(207);
      const items: Item[] = response.body.items;

      expect(items.map((item) => item.filename)).toEqual(sent.map((file) => file.name));
      const byName = new Map(items.map((item) => [item.filename, item]));
      for (const [copy, original] of [
        ['again-0.png', 'file-0.png'],
        ['again-10.png', 'file-10.png'],
        ['again-0-twice.png', 'file-0.png'],
      ]) {
        expect(byName.get(copy)).toEqual({ filename: copy, status: 'duplicate', id: byName.get(original)!.id });
      }
      expect(byName.get('not-an-image.png')?.status).toBe('rejected');
      const created = items.filter((item) => item.status === 'created');
      expect(created.map((item) => item.filename)).toEqual(distinct.map((_, i) => `file-${i}.png`));

      // One upload event per created file, none for the duplicates or the rejected file.
      const uploaded = (await testApp.app.get(EventStore).readAll()).filter((event) => event.type === 'ImageUploaded');
      expect(uploaded.map((event) => event.streamId)).toEqual(created.map((item) => `image-${item.id}`));
      const listed = await testApp.http
        .get(`/v1/projects/${projectId}/images?limit=100`)
        .set('Authorization', auth)
        .expect(200);
      expect(listed.body.items.map((image: { id: string }) => image.id)).toEqual(created.map((item) => item.id));
    });
  },
);
