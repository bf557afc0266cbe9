import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisConnection } from '@diyml/jobs';
import { freePort } from '@diyml/core/testing/free-port.js';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { createTestDatabase } from './support/built-processes.js';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';

const ROOT = join(import.meta.dirname, '..');
const API = join(ROOT, 'dist/apps/api/src/main.js');
const WORKER = join(ROOT, 'dist/apps/worker/src/main.js');
const REPLAY = join(ROOT, 'dist/apps/api/src/replay.js');
const built = existsSync(API) && existsSync(WORKER);
const redis = await redisIsReachable();
const postgresServer = process.env.POSTGRES_URL || undefined;
if (!postgresServer && process.env.REQUIRE_POSTGRES === '1') {
  throw new Error('REQUIRE_POSTGRES=1 but POSTGRES_URL is not set: point it at a PostgreSQL server.');
}
const store = postgresServer ? 'PostgreSQL' : 'a shared SQLite file';
const skipped = !built
  ? ' (skipped: run `npm run build` first; `npm test` does)'
  : !redis
    ? ` (skipped: no Redis at ${TEST_REDIS_URL})`
    : '';

interface Started {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two api processes and two worker processes, the built apps, on one log (PostgreSQL when POSTGRES_URL is set,
 * else one SQLite file in a shared data directory) and one Redis: the deployment the README describes for scaling
 * out, killed and restarted the hard way (SIGKILL).
 */
(skipped ? describe.skip : describe)(`two apis and two workers on ${store} and Redis${skipped}`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'diyml-distributed-'));
  const queuePrefix = `diyml-distributed-${randomUUID()}`;
  const ports: number[] = [];
  const processes = new Set<Started>();
  let database: { url: string; drop(): Promise<void> } | undefined;
  let env: Record<string, string>;
  let apis: Started[];
  let workers: Started[];
  let token: string;
  let projectId: string;
  const acknowledged: string[] = [];

  function start(name: string, entry: string, extra: Record<string, string> = {}, args: string[] = []): Started {
    let output = '';
    const child = spawn(process.execPath, [entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started: Started = {
      name,
      child,
      output: () => output,
      exited: new Promise((resolve) => child.once('exit', resolve)),
    };
    processes.add(started);
    void started.exited.then(() => processes.delete(started));
    return started;
  }

  async function startApi(index: number): Promise<Started> {
    // A new port at every start: a killed api's port may meanwhile serve another test file's server.
    ports[index] = await freePort();
    const api = start(`api${index + 1}`, API, { PORT: String(ports[index]) });
    for (let attempt = 0; attempt < 1800; attempt += 1) {
      if (api.child.exitCode !== null) throw new Error(`${api.name} exited:\n${api.output()}`);
      try {
        if ((await fetch(`http://127.0.0.1:${ports[index]}/health`)).ok) return api;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`${api.name} did not answer /health:\n${api.output()}`);
  }

  async function startWorker(name: string): Promise<Started> {
    return waitingForJobs(start(name, WORKER));
  }

  async function waitingForJobs(worker: Started): Promise<Started> {
    const { name } = worker;
    for (let attempt = 0; attempt < 1800 && !worker.output().includes('waiting for jobs'); attempt += 1) {
      if (worker.child.exitCode !== null) throw new Error(`${name} exited:\n${worker.output()}`);
      await sleep(100);
    }
    return worker;
  }

  async function kill(started: Started): Promise<void> {
    started.child.kill('SIGKILL');
    await started.exited;
  }

  async function call(api: number, method: string, path: string, body?: unknown) {
    const response = await fetch(`http://127.0.0.1:${ports[api]}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, etag: response.headers.get('etag'), body: text ? JSON.parse(text) : undefined };
  }

  async function upload(api: number, image: Buffer, label: string) {
    const form = new FormData();
    form.append('images', new Blob([new Uint8Array(image)], { type: 'image/png' }), `${label}.png`);
    form.append('label', label);
    const response = await fetch(`http://127.0.0.1:${ports[api]}/v1/projects/${projectId}/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    expect(response.status).toBe(201);
    const { items } = (await response.json()) as { items: { id: string }[] };
    return items[0].id;
  }

  /** Every image of the project as `api` serves it, following the pages. */
  async function imageIds(api: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await call(
        api,
        'GET',
        `/v1/projects/${projectId}/images?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      ids.push(...page.body.items.map((image: { id: string }) => image.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    return ids;
  }

  async function seenByBothApis(path: string): Promise<void> {
    for (const api of [0, 1])
      expect(
        (
          await eventually(
            () => call(api, 'GET', path),
            (read) => read.status === 200,
          )
        ).status,
      ).toBe(200);
  }

  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > deadline) return value;
      await sleep(200);
    }
  }

  beforeAll(async () => {
    database = postgresServer ? await createTestDatabase(postgresServer) : undefined;
    env = {
      DATA_DIR: dataDir,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: queuePrefix,
      POSTGRES_URL: database?.url ?? '',
      EVENTSTORE_CONNECTION_STRING: '',
      MONGODB_URI: '',
      JWT_SECRET: randomBytes(32).toString('hex'),
      // A killed worker's job is taken over within seconds, not the production minute.
      JOB_LOCK_DURATION_MS: '2000',
      LOG_LEVEL: 'warn',
    };
    // The first api creates the schema (or the SQLite file); the rest start on it together.
    apis = [await startApi(0)];
    [apis[1], ...workers] = await Promise.all([startApi(1), startWorker('worker1'), startWorker('worker2')]);
    const credentials = { username: 'scaled', password: 'scaled-out-password' };
    expect((await call(0, 'POST', '/v1/auth/register', credentials)).status).toBe(201);
    // Logging in at the other api works once it has read the registration from the log (failed logins count
    // against the account, so wait for that rather than retry the login).
    const { body: first } = await call(0, 'GET', '/health');
    await eventually(
      () => call(1, 'GET', '/health'),
      (health) => health.body.info.readModels.position >= first.info.eventStore.headPosition,
    );
    const login = await call(1, 'POST', '/v1/auth/login', credentials);
    expect(login.status).toBe(200);
    token = login.body.accessToken;
  }, 400_000);

  afterAll(async () => {
    for (const started of [...processes]) {
      started.child.kill('SIGTERM');
      await started.exited;
    }
    await database?.drop();
    const queue = new Queue('training', { connection: redisConnection(TEST_REDIS_URL), prefix: queuePrefix });
    await queue.obliterate({ force: true });
    await queue.close();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('takes projects, labels, uploads and labelling through either api, and each api serves what the other wrote', async () => {
    const project = await call(0, 'POST', '/v1/projects', { name: 'scaled out', type: 'classification' });
    expect(project.status).toBe(201);
    projectId = project.body.id;
    // Each api answers for its own writes at once (read-your-writes); the other one sees them once it has
    // read them from the log, which a client of several replicas waits for (or keeps to one replica).
    await seenByBothApis(`/v1/projects/${projectId}`);
    expect((await call(1, 'POST', `/v1/projects/${projectId}/labels`, { name: 'red' })).status).toBe(201);
    expect((await call(0, 'POST', `/v1/projects/${projectId}/labels`, { name: 'blue' })).status).toBe(201);
    for (const api of [0, 1]) {
      const project = await eventually(
        () => call(api, 'GET', `/v1/projects/${projectId}`),
        (read) => read.body.labels?.length === 2,
      );
      expect(project.body.labels.map((label: { name: string }) => label.name).sort()).toEqual(['blue', 'red']);
    }
    const reds = await colouredSquares(RED, 8, 31);
    const blues = await colouredSquares(BLUE, 8, 32);
    for (let i = 0; i < 8; i += 1) {
      acknowledged.push(await upload(i % 2, reds[i], 'red'));
      acknowledged.push(await upload((i + 1) % 2, blues[i], 'blue'));
    }
    for (const api of [0, 1]) {
      const ids = await eventually(
        () => imageIds(api),
        (found) => found.length === acknowledged.length,
      );
      expect(new Set(ids)).toEqual(new Set(acknowledged));
    }
    // Labelled through the api that did not upload it.
    const relabelled = acknowledged[0];
    expect(
      (await call(1, 'PUT', `/v1/projects/${projectId}/images/${relabelled}/label`, { label: 'blue' })).status,
    ).toBe(200);
    const labelled = await call(1, 'PUT', `/v1/projects/${projectId}/images/${relabelled}/label`, { label: 'red' });
    expect(labelled.status).toBe(200);
    const image = await eventually(
      () => call(0, 'GET', `/v1/projects/${projectId}/images/${relabelled}`),
      (read) => read.etag === labelled.etag,
    );
    expect(image.etag).toBe(labelled.etag);
    expect(image.body.label).toMatchObject({ name: 'red' });
  }, 120_000);

  it('loses no acknowledged upload when an api is killed mid-upload and restarted', async () => {
    const images = await colouredSquares(RED, 30, 33);
    const inFlight: Promise<void>[] = [];
    let killed = false;
    for (const [index, image] of images.entries()) {
      if (index === 12) {
        inFlight.push(kill(apis[1]).then(() => void (killed = true)));
      }
      inFlight.push(
        upload(1, image, 'red').then(
          (id) => void acknowledged.push(id),
          () => {}, // refused or cut off by the kill: never acknowledged, so it may be lost
        ),
      );
      await sleep(10);
    }
    await Promise.all(inFlight);
    expect(killed).toBe(true);
    apis[1] = await startApi(1);
    for (const api of [0, 1]) {
      const ids = new Set(
        await eventually(
          () => imageIds(api),
          (found) => acknowledged.every((id) => found.includes(id)),
        ),
      );
      expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
    }
  }, 120_000);

  it('finishes training whose worker is killed twice: completed on another worker, or failed with a clear error', async () => {
    await eventually(
      () => imageIds(0),
      (found) => acknowledged.every((id) => found.includes(id)),
    );
    const queued = await call(0, 'POST', `/v1/projects/${projectId}/iterations`, {
      // Long enough per attempt to be caught running and killed: 40 epochs take ~3 s on 2 idle cores, and each
      // attempt is killed within a poll (200 ms) of its start, before its first epoch at load 10. The third attempt
      // trains to the end, so every epoch more is paid in full (150 epochs: ~10 s).
      trainingConfig: { imageSize: 64, epochs: 40, batchSize: 8, learningRate: 0.01, seed: 7 },
    });
    expect(queued.status).toBe(202);
    const iterationId: string = queued.body.id;
    const training = new Queue('training', { connection: redisConnection(TEST_REDIS_URL), prefix: queuePrefix });
    const iteration = (api = 0) => call(api, 'GET', `/v1/projects/${projectId}/iterations/${iterationId}`);
    /** The attempts recorded as started (IterationStarted), from the project's history. */
    const attemptsStarted = async () => {
      const history = await call(0, 'GET', `/v1/projects/${projectId}/history?type=IterationStarted&limit=100`);
      return (history.body.items as { data: { iterationId: string; attempt: number } }[])
        .filter((entry) => entry.data.iterationId === iterationId)
        .map((entry) => entry.data.attempt);
    };
    // A killed worker starts again while the next attempt runs: waiting for its start before looking for that
    // attempt let the attempt train for seconds (12 epochs at load 10) before it was killed.
    const restarts: Promise<Started>[] = [];
    try {
      for (const attempt of [1, 2]) {
        const started = await eventually(attemptsStarted, (attempts) => attempts.length >= attempt, 90_000);
        expect(started).toEqual([1, 2].slice(0, attempt));
        const job = await training.getJob(iterationId);
        const holder = workers.find(
          (worker) => job?.processedBy === `${worker.child.pid}` || job?.processedBy?.endsWith(`:${worker.child.pid}`),
        );
        expect(holder).toBeDefined();
        await kill(holder!);
        const restarted = start(`${holder!.name}'`, WORKER);
        workers[workers.indexOf(holder!)] = restarted;
        restarts.push(waitingForJobs(restarted));
      }
    } finally {
      await training.close();
      await Promise.allSettled(restarts);
    }
    // A worker that could not start again says why here, rather than as a training that never finishes.
    await Promise.all(restarts);
    const finished = await eventually(iteration, (read) => ['completed', 'failed'].includes(read.body.status), 240_000);
    if (finished.body.status === 'completed') {
      expect(await attemptsStarted()).toEqual([1, 2, 3]);
      expect(finished.body.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    } else {
      expect(finished.body.error).toMatchObject({ code: 'WORKER_LOST' });
    }
    // Both apis agree, and it was queued once: one iteration in the project.
    expect(
      (
        await eventually(
          () => iteration(1),
          (read) => read.body.status === finished.body.status,
        )
      ).body.status,
    ).toBe(finished.body.status);
    const iterations = await call(1, 'GET', `/v1/projects/${projectId}/iterations`);
    expect(iterations.body.items.map((item: { id: string }) => item.id)).toEqual([iterationId]);
  }, 420_000);

  it('has read models equal to a rebuild from the log (npm run replay -- --verify)', async () => {
    const replay = start('replay', REPLAY, { LOG_LEVEL: 'error' }, ['--verify']);
    const code = await replay.exited;
    // Every read model compared and equal, whichever store holds them (exit code 1 when any differs).
    expect(replay.output()).toMatch(/images: \d+ \/ \d+ — equal/);
    expect(replay.output()).not.toContain('DIFFERENT');
    expect(code).toBe(0);
  }, 120_000);
});
