import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
  postgresTestServer,
  withPostgresClient,
} from '@diyml/core/testing/postgres-test-database.js';
import { ApiClient } from './support/api-client.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const server = postgresTestServer();
const FAST = {
  imageSize: 16,
  epochs: 4,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

if (server) {
  describe('the whole api on PostgreSQL (no Redis: jobs run in process)', () => {
    let database: PostgresTestDatabase;
    let settings: Record<string, unknown>;
    const apps: TestApp[] = [];
    const start = async () => {
      const testApp = await startTestApp({ settings });
      apps.push(testApp);
      return testApp;
    };

    beforeAll(async () => {
      database = await createPostgresTestDatabase(server);
      settings = { POSTGRES_URL: database.url, JWT_SECRET: 'a-postgres-e2e-secret-of-more-than-32-characters' };
    });
    afterAll(async () => {
      for (const testApp of apps) rmSync(testApp.dataDir, { recursive: true, force: true });
      await database?.drop();
    });

    it('registers, creates a project, uploads, labels and trains; a restarted api with an empty DATA_DIR has it all', async () => {
      const first = await start();
      const user = await registerAndLogIn(first);
      const client = new ApiClient(first, user.auth);
      const project = await client.createProject('classification', ['red', 'blue']);
      const reds = await client.upload(project.id, await colouredSquares(RED, 8, 1), { label: 'red' }, 'red');
      await client.upload(project.id, await colouredSquares(BLUE, 8, 2), {}, 'blue');
      const unlabeled = await first.http
        .get(`/v1/projects/${project.id}/images?unlabeled=true`)
        .set('Authorization', user.auth)
        .expect(200);
      expect(unlabeled.body.items).toHaveLength(8);
      for (const image of unlabeled.body.items as { id: string }[]) {
        await first.http
          .put(`/v1/projects/${project.id}/images/${image.id}/label`)
          .set('Authorization', user.auth)
          .send({ label: 'blue' })
          .expect(200);
      }
      await client.configureTraining(project.id, FAST);
      const iteration = await client.waitForIteration(project.id, (await client.train(project.id)).id);
      expect(iteration.status).toBe('completed');
      await first.close();

      const { rows } = await withPostgresClient(database.url, (client) =>
        client.query<{ tables: string[] }>(
          `SELECT array_agg(table_name::text ORDER BY table_name) AS tables FROM information_schema.tables WHERE table_schema = 'public'`,
        ),
      );
      expect(rows[0].tables).toEqual([
        'blob_chunks',
        'blobs',
        'events',
        'image_quota_reservations',
        'leases',
        'read_model_checkpoints',
        'read_model_writer',
        'read_models',
        'schema_migrations',
      ]);

      // A new DATA_DIR: everything must come from the database.
      const second = await start();
      const again = await second.http
        .post('/v1/auth/login')
        .send({ username: user.username, password: 'correct horse battery' })
        .expect(200);
      const auth = `Bearer ${again.body.accessToken}`;
      const projects = await second.http.get('/v1/projects').set('Authorization', auth).expect(200);
      expect(projects.body.items.map((p: { id: string }) => p.id)).toEqual([project.id]);
      const images = await second.http
        .get(`/v1/projects/${project.id}/images?limit=50`)
        .set('Authorization', auth)
        .expect(200);
      expect(images.body.items).toHaveLength(16);
      expect(
        images.body.items.filter((image: { label: { name: string } | null }) => image.label?.name === 'blue'),
      ).toHaveLength(8);
      const file = await second.http
        .get(`/v1/projects/${project.id}/images/${reds[0].id}/content`)
        .set('Authorization', auth)
        .expect(200);
      expect(file.headers['content-type']).toBe('image/png');
      const restarted = await second.http
        .get(`/v1/projects/${project.id}/iterations/${iteration.id}`)
        .set('Authorization', auth)
        .expect(200);
      expect(restarted.body).toMatchObject({ status: 'completed', metrics: iteration.metrics, model: iteration.model });
      const model = await second.http
        .get(`/v1/projects/${project.id}/iterations/${iteration.id}/model`)
        .set('Authorization', auth)
        .expect(200);
      expect(model.headers['content-type']).toBe('application/zip');
      await second.close();
    }, 120_000);
  });
} else {
  it.skip('HTTP e2e on PostgreSQL (skipped: set POSTGRES_URL to run it)', () => {});
}
