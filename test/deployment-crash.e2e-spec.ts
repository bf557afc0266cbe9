import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { freePort } from '@diyml/core/testing/free-port.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';

const ROOT = join(import.meta.dirname, '..');
const API = join(ROOT, 'dist/apps/api/src/main.js');
const built = existsSync(API);

interface Started {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * The built api killed the hard way (SIGKILL: no shutdown hook runs) and started again on the same data
 * directory: what it acknowledged before the kill must be there after the restart.
 */
(built ? describe : describe.skip)(
  `a deployment's api killed by SIGKILL${built ? '' : ' (skipped: run `npm run build` first; `npm test` does)'}`,
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'diyml-crash-'));
    let api: Started;
    let auth: string;
    let projectId: string;
    let deployment: { id: string; apiKey: string };

    async function startApi(): Promise<Started> {
      // A new port at every start: the killed api's port may meanwhile serve another test file's server.
      const port = await freePort();
      let output = '';
      const child = spawn(process.execPath, [API], {
        cwd: ROOT,
        env: {
          ...process.env,
          PORT: String(port),
          DATA_DIR: dataDir,
          JWT_SECRET: 'crash-test-secret-'.padEnd(40, 'x'),
          // Nothing is flushed by the timer during the test: only the journal can save the counts.
          USAGE_FLUSH_SECONDS: '3600',
          LOG_LEVEL: 'warn',
          EVENTSTORE_CONNECTION_STRING: '',
          MONGODB_URI: '',
          POSTGRES_URL: '',
          REDIS_URL: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const started: Started = {
        child,
        base: `http://127.0.0.1:${port}`,
        output: () => output,
        exited: new Promise((resolve) => child.once('exit', resolve)),
      };
      for (let attempt = 0; attempt < 1200; attempt += 1) {
        if (child.exitCode !== null) throw new Error(`the api exited:\n${output}`);
        try {
          if ((await fetch(`${started.base}/health`)).ok) return started;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the api did not answer /health:\n${output}`);
    }

    async function kill(started: Started): Promise<void> {
      started.child.kill('SIGKILL');
      expect(await started.exited).toBeNull();
    }

    const http = () => request(api.base);
    const predict = (image: Buffer) =>
      http()
        .post(`/v1/predict/${deployment.id}`)
        .set('Content-Type', 'image/png')
        .set('X-Api-Key', deployment.apiKey)
        .send(image);

    beforeAll(async () => {
      api = await startApi();
      const credentials = { username: 'crash', password: `crash-${randomBytes(8).toString('hex')}` };
      expect((await http().post('/v1/auth/register').send(credentials)).status).toBe(201);
      auth = `Bearer ${(await http().post('/v1/auth/login').send(credentials)).body.accessToken}`;
      projectId = (
        await http()
          .post('/v1/projects')
          .set('Authorization', auth)
          .send({ name: 'crash', type: 'classification' })
          .expect(201)
      ).body.id;
      for (const name of ['red', 'blue'])
        await http().post(`/v1/projects/${projectId}/labels`).set('Authorization', auth).send({ name }).expect(201);
      const imported = await http()
        .post(`/v1/projects/${projectId}/models`)
        .set('Authorization', auth)
        .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
        .expect(201);
      deployment = (
        await http()
          .post(`/v1/projects/${projectId}/deployments`)
          .set('Authorization', auth)
          .send({ iterationId: imported.body.id })
          .expect(201)
      ).body;
      await http()
        .put(`/v1/projects/${projectId}/deployments/${deployment.id}/prediction-store`)
        .set('Authorization', auth)
        .send({ enabled: true })
        .expect(200);
    }, 180_000);

    afterAll(async () => {
      if (api?.child.exitCode === null) {
        api.child.kill('SIGTERM');
        await api.exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('keeps every prediction it answered as stored, and counts every call, though killed before writing them', async () => {
      const images = [...(await colouredSquares(RED, 3, 21)), ...(await colouredSquares(BLUE, 3, 22))];
      // The model is loaded by a first call; then the blob store is made unwritable (a file where its folder
      // was), so the stored predictions are answered but cannot be written before the kill: only the write-ahead
      // journal holds them.
      expect((await predict(images[0])).status).toBe(200);
      const blobs = join(dataDir, 'blobs');
      renameSync(blobs, `${blobs}-away`);
      writeFileSync(blobs, 'not a folder');
      const answers = [];
      for (const image of images) {
        const answer = await predict(image);
        expect(answer.status).toBe(200);
        answers.push(
          answer.body as { storedPredictionId: string; predictions: { label: string; probability: number }[] },
        );
      }
      // A last call after the others: their usage is counted when their answers are sent, before this one is served.
      await http().get('/health').expect(200);
      await kill(api);
      rmSync(blobs);
      renameSync(`${blobs}-away`, blobs);

      api = await startApi();
      const deadline = Date.now() + 30_000;
      let stored: { id: string; predictions: unknown[]; imageUrl: string }[] = [];
      while (Date.now() < deadline) {
        const page = await http().get(`/v1/projects/${projectId}/predictions?limit=100`).set('Authorization', auth);
        stored = page.status === 200 ? page.body.items : [];
        if (stored.length >= answers.length + 1) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const byId = new Map(stored.map((item) => [item.id, item]));
      for (const [index, answer] of answers.entries()) {
        // As answered, each with the id of its label besides.
        expect(byId.get(answer.storedPredictionId)?.predictions).toMatchObject(answer.predictions);
        const image = await http()
          .get(byId.get(answer.storedPredictionId)!.imageUrl)
          .set('Authorization', auth)
          .buffer(true);
        expect(Buffer.compare(image.body as Buffer, images[index])).toBe(0);
      }
      expect(stored).toHaveLength(answers.length + 1);

      let usage = { calls: 0 };
      while (Date.now() < deadline + 30_000) {
        usage = (
          await http()
            .get(`/v1/projects/${projectId}/deployments/${deployment.id}/usage`)
            .set('Authorization', auth)
            .expect(200)
        ).body.totals;
        if (usage.calls >= answers.length + 1) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(usage).toMatchObject({ calls: answers.length + 1, errorCount: 0 });
      // Written once: the journals of the killed process are gone once their content is in the log.
      expect(readdirSync(join(dataDir, 'journal'))).toEqual([]);
    }, 180_000);

    it('writes none of it twice when killed again and started once more', async () => {
      await kill(api);
      api = await startApi();
      const usage = (
        await http()
          .get(`/v1/projects/${projectId}/deployments/${deployment.id}/usage`)
          .set('Authorization', auth)
          .expect(200)
      ).body.totals;
      expect(usage.calls).toBe(7);
      expect(
        (await http().get(`/v1/projects/${projectId}/predictions?limit=100`).set('Authorization', auth).expect(200))
          .body.items,
      ).toHaveLength(7);
    }, 120_000);
  },
);
