import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { postgresDatabaseForThisFile } from '@diyml/core/testing/postgres-database-for-this-file.js';
import { postgresTestServer } from '@diyml/core/testing/postgres-test-database.js';
import { BOOT_TIMEOUT_MS, registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

const server = postgresTestServer();

/** Two apis on one PostgreSQL started without JWT_SECRET, each with a DATA_DIR of its own (two hosts). */
(server ? describe : describe.skip)('apis sharing PostgreSQL without JWT_SECRET', () => {
  const database = postgresDatabaseForThisFile(server ?? '');
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    const settings = { POSTGRES_URL: database.url };
    first = await startTestApp({ settings });
    second = await startTestApp({ settings });
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    await second?.destroy();
    await first?.destroy();
  });

  it('accept on one api the login token the other signed, with no secret on either disk', async () => {
    const { auth } = await registerAndLogIn(first);
    await second.http.get('/v1/projects').set('Authorization', auth).expect(200);
    const { auth: other } = await registerAndLogIn(second);
    await first.http.get('/v1/projects').set('Authorization', other).expect(200);
    expect([first, second].map((app) => existsSync(join(app.dataDir, 'jwt-secret')))).toEqual([false, false]);
  });
});
