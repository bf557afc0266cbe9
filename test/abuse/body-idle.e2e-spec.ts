import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventStore } from '@diyml/event-store';
import { redisIsReachable, TEST_REDIS_URL } from '@diyml/jobs/testing/redis.js';
import { ApiClient } from '../support/api-client.js';
import { BLUE, colouredSquares, RED } from '../support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from '../support/test-app.js';

vi.setConfig({ testTimeout: 120_000 });

/** Shortened for the tests (60 s by default): the setting's least, as every test here waits it out at least once. */
const IDLE_SECONDS = 1;
const BOUNDARY = 'diymlIdleBoundary';

interface Dribbled {
  status: number;
  code?: string;
  /** How long after the last byte sent the answer came (ms). */
  answeredAfterMs: number;
  /** Whether the api closed the connection after answering. */
  closed: boolean;
}

/**
 * Sends a request's head and then its body in `pieces`, waiting `gapMs` before each piece, on a raw connection
 * that stays open, and reads the answer; `stopAfter` pieces are sent at most (the rest never comes).
 */
function dribble(
  baseUrl: string,
  head: string,
  pieces: Buffer[],
  options: { gapMs: number; stopAfter?: number },
): Promise<Dribbled> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let received = '';
    let lastSentAt = Date.now();
    let answered: Omit<Dribbled, 'closed'> | undefined;
    let stopped = false;
    const socket = connect(Number(url.port), url.hostname, async () => {
      socket.write(head);
      lastSentAt = Date.now();
      for (const piece of pieces.slice(0, options.stopAfter ?? pieces.length)) {
        await sleep(options.gapMs);
        if (stopped || socket.destroyed || answered) return;
        socket.write(piece);
        lastSentAt = Date.now();
      }
    });
    const finish = (closed: boolean) => {
      if (stopped) return;
      stopped = true;
      socket.destroy();
      if (!answered) reject(new Error(`No answer (received ${JSON.stringify(received.slice(0, 200))})`));
      else resolve({ ...answered, closed });
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0 || answered) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(received.slice(0, headEnd))?.[1] ?? 0);
      const body = received.slice(headEnd + 4);
      if (Buffer.byteLength(body) < length) return;
      let code: string | undefined;
      try {
        code = (JSON.parse(body) as { code?: string }).code;
      } catch {
        // Not JSON: the status tells.
      }
      answered = {
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]),
        code,
        answeredAfterMs: Date.now() - lastSentAt,
      };
      // A connection left open is noticed within a second.
      setTimeout(() => finish(false), 1000);
    });
    socket.on('close', () => finish(true));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
  });
}

function multipartBody(field: string, filename: string, contentType: string, bytes: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** `body` cut into `count` pieces of nearly the same size. */
function piecesOf(body: Buffer, count: number): Buffer[] {
  const size = Math.ceil(body.length / count);
  return Array.from({ length: count }, (_, index) => body.subarray(index * size, (index + 1) * size));
}

/** Retries `check` for up to 10 s (what is left of an aborted upload is removed in the background). */
async function expectEventually(check: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await check();
    } catch (error) {
      if (attempt >= 100) throw error;
      await sleep(100);
    }
  }
}

const redis = await redisIsReachable();

describe(`request bodies that stop arriving (BODY_IDLE_TIMEOUT_SECONDS=${IDLE_SECONDS})`, () => {
  let testApp: TestApp;
  let baseUrl: string;
  let auth: string;
  let host: string;
  let projectId: string;
  let png: Buffer;

  function head(method: string, path: string, contentType: string, length: number, authorized = true): string {
    return (
      [
        `${method} ${path} HTTP/1.1`,
        `Host: ${host}`,
        ...(authorized ? [`Authorization: ${auth}`] : []),
        `Content-Type: ${contentType}`,
        `Content-Length: ${length}`,
      ].join('\r\n') + '\r\n\r\n'
    );
  }

  /** The event log's head, every blob file (temporary ones too) and every uploaded archive waiting for import. */
  async function written() {
    const files = (folder: string) =>
      existsSync(folder)
        ? readdirSync(folder, { recursive: true, withFileTypes: true })
            .filter((entry) => entry.isFile())
            .map((entry) => join(entry.parentPath, entry.name))
            .sort()
        : [];
    return {
      headPosition: await testApp.app.get(EventStore).headPosition(),
      blobs: files(join(testApp.dataDir, 'blobs')),
      imports: files(join(testApp.dataDir, 'imports')),
    };
  }

  beforeAll(async () => {
    testApp = await startTestApp({
      settings: {
        BODY_IDLE_TIMEOUT_SECONDS: IDLE_SECONDS,
        // With a job queue no worker serves, an iteration stays queued and its event stream idle.
        ...(redis ? { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: `diyml-test-${randomUUID()}` } : {}),
      },
    });
    await testApp.app.listen(0, '127.0.0.1');
    const address = testApp.app.getHttpServer().address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}`;
    host = `127.0.0.1:${address.port}`;
    auth = (await registerAndLogIn(testApp)).auth;
    projectId = (await new ApiClient(testApp, auth).createProject('classification', ['red', 'blue'])).id;
    [png] = await colouredSquares(RED, 1, 7);
  }, 60_000);

  afterAll(async () => {
    await testApp?.destroy();
  });

  it('answers a body that stops arriving with 408 BODY_IDLE_TIMEOUT, closes the connection and keeps nothing', async () => {
    const image = multipartBody('images', 'slow.png', 'image/png', png);
    const archive = multipartBody('archive', 'project.zip', 'application/zip', Buffer.alloc(64 * 1024, 1));
    const login = Buffer.from(JSON.stringify({ username: 'someone', password: 'a long enough passphrase' }));
    const attacks = [
      {
        name: 'login JSON',
        head: head('POST', '/v1/auth/login', 'application/json', login.length, false),
        body: login,
      },
      {
        name: 'image upload',
        head: head(
          'POST',
          `/v1/projects/${projectId}/images`,
          `multipart/form-data; boundary=${BOUNDARY}`,
          image.length,
        ),
        body: image,
      },
      {
        name: 'project import',
        head: head('POST', '/v1/projects/import', `multipart/form-data; boundary=${BOUNDARY}`, archive.length),
        body: archive,
      },
    ];
    for (const attack of attacks) {
      const before = await written();
      // Half the body at once, then one byte after a pause longer than the timeout: the dribble never gets there.
      const half = attack.body.subarray(0, attack.body.length >> 1);
      const answer = await dribble(baseUrl, attack.head, [half, attack.body.subarray(half.length, half.length + 1)], {
        gapMs: 10,
        stopAfter: 1,
      });
      expect({ attack: attack.name, status: answer.status, code: answer.code, closed: answer.closed }).toEqual({
        attack: attack.name,
        status: 408,
        code: 'BODY_IDLE_TIMEOUT',
        closed: true,
      });
      expect(answer.answeredAfterMs).toBeGreaterThanOrEqual(IDLE_SECONDS * 1000 - 100);
      // The reader of the upload removes what it had received once the request is dropped, after the answer.
      await expectEventually(async () => expect(await written()).toEqual(before));
    }
  });

  it('answers a body that sends nothing after its headers with 408 too', async () => {
    const answer = await dribble(baseUrl, head('POST', '/v1/auth/login', 'application/json', 40, false), [], {
      gapMs: 0,
    });
    expect({ status: answer.status, code: answer.code, closed: answer.closed }).toEqual({
      status: 408,
      code: 'BODY_IDLE_TIMEOUT',
      closed: true,
    });
  });

  it('answers a request whose target cannot be parsed (`POST http://[::1`) with 400 MALFORMED_REQUEST before its body', async () => {
    // Express routes such a request past every middleware, this timeout included, to an HTML 404 written once the
    // whole body arrived: a connection whose body never came stayed open for REQUEST_TIMEOUT_SECONDS (an hour).
    const answer = await dribble(baseUrl, head('POST', 'http://[::1', 'application/json', 100, false), [], {
      gapMs: 0,
    });
    expect({ status: answer.status, code: answer.code, closed: answer.closed }).toEqual({
      status: 400,
      code: 'MALFORMED_REQUEST',
      closed: true,
    });
  });

  it("answers GETs of Swagger UI's files that promise a body they never send while each is first compressed, the api staying up", async () => {
    // Each file is compressed at its first request (seconds for all of them at once). A 408 sent meanwhile left the
    // compressed file to be sent on an answer already gone: "Cannot set headers after they are sent", an unhandled
    // rejection, which ends the api's process (Node's default).
    const directory = (createRequire(import.meta.url)('swagger-ui-dist/absolute-path.js') as () => string)();
    const files = readdirSync(directory).filter((file) => /\.(js|css|map)$/.test(file));
    expect(files.length).toBeGreaterThan(10);
    const rejections: unknown[] = [];
    const collect = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', collect);
    try {
      const answers = await Promise.all(
        files.map((file) => dribble(baseUrl, head('GET', `/docs/${file}`, 'text/plain', 1, false), [], { gapMs: 0 })),
      );
      expect(answers.map(({ status }) => status).filter((status) => status !== 200 && status !== 408)).toEqual([]);
      // Rejections of the last compressions come after their answers.
      await sleep(IDLE_SECONDS * 1000);
      expect((await testApp.http.get('/health')).status).toBe(200);
    } finally {
      process.off('unhandledRejection', collect);
    }
    expect(rejections.map(String)).toEqual([]);
  });

  it('takes a slow but steady upload that lasts longer than the timeout', async () => {
    const [image] = await colouredSquares(BLUE, 1, 8);
    const body = multipartBody('images', 'steady.png', 'image/png', image);
    // 8 pauses of 200 ms: 1.6 s in all, each pause far below the timeout.
    const pieces = piecesOf(body, 8);
    const started = Date.now();
    const answer = await dribble(
      baseUrl,
      head('POST', `/v1/projects/${projectId}/images`, `multipart/form-data; boundary=${BOUNDARY}`, body.length),
      pieces,
      { gapMs: 200 },
    );
    expect(Date.now() - started).toBeGreaterThan(IDLE_SECONDS * 1000);
    expect({ status: answer.status, closed: answer.closed }).toEqual({ status: 201, closed: false });
  });

  (redis ? it : it.skip)('keeps an event stream open while it sends nothing for longer than the timeout', async () => {
    const client = new ApiClient(testApp, auth);
    const project = await client.createProject('classification', ['red', 'blue']);
    await client.upload(project.id, await colouredSquares(RED, 6, 9), { label: 'red' }, 'red');
    await client.upload(project.id, await colouredSquares(BLUE, 6, 10), { label: 'blue' }, 'blue');
    const queued = await client.train(project.id);
    expect(queued.status).toBe('queued');
    const url = new URL(baseUrl);
    const stream = connect(Number(url.port), url.hostname);
    let received = '';
    let closed = false;
    stream.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    stream.on('close', () => (closed = true));
    stream.write(
      `GET /v1/projects/${project.id}/iterations/${queued.id}/events HTTP/1.1\r\nHost: ${host}\r\n` +
        `Authorization: ${auth}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    await sleep(IDLE_SECONDS * 1000 * 2.5);
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    // One event for the queued iteration, then nothing while it stays queued.
    expect(received.match(/^event: iteration$/gm)).toHaveLength(1);
    expect(closed).toBe(false);
    stream.destroy();
  });
});
