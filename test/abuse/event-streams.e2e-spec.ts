import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { ApiClient } from '../support/api-client.js';
import { BLUE, colouredSquares, RED } from '../support/generated-images.js';
import { baseUrlOf, expectStayedLive, underAttack } from '../support/liveness-probe.js';
import { registerAndLogIn, startTestApp, type TestApp } from '../support/test-app.js';

/** Training a few hundred epochs of 16-pixel squares takes seconds, more on a loaded machine. */
vi.setConfig({ testTimeout: 180_000 });

/** The most streams one user may hold open (EVENT_STREAMS_PER_USER). */
const STREAMS_PER_USER = 20;
const HEALTH_BOUND_MS = 1000;
const RSS_BOUND_BYTES = 200 * 1024 * 1024;

interface OpenStream {
  status: number;
  code?: string;
  bytes: number;
  request: ClientRequest;
  response: IncomingMessage;
}

/**
 * A freshly registered user trains a long iteration, then opens event streams on it by the hundred: each change of
 * the iteration (up to 80 KB at 500 epochs) was serialized and written to every one of them. 900 streams held the
 * built api's /health for 6.5 s and grew it to 786 MB.
 */
describe('event streams of one user (issue 17)', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let baseUrl: string;
  let projectId: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    baseUrl = await baseUrlOf(testApp);
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
    projectId = (await client.createProject('classification', ['red', 'blue'])).id;
    await client.upload(projectId, await colouredSquares(RED, 8, 1), { label: 'red' }, 'red');
    await client.upload(projectId, await colouredSquares(BLUE, 8, 2), { label: 'blue' }, 'blue');
    await client.configureTraining(projectId, {
      imageSize: 16,
      epochs: 300,
      batchSize: 8,
      augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
    });
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  /** Opens a stream and resolves once its status is known; the body keeps arriving into `bytes`. */
  function openStream(iterationId: string): Promise<OpenStream> {
    const url = new URL(`${baseUrl}/v1/projects/${projectId}/iterations/${iterationId}/events`);
    return new Promise((resolve, reject) => {
      const sent = request(
        url,
        { headers: { authorization: client.auth, accept: 'text/event-stream' }, agent: false },
        (response) => {
          const stream: OpenStream = { status: response.statusCode ?? 0, bytes: 0, request: sent, response };
          if (stream.status === 200) {
            response.on('data', (chunk: Buffer) => (stream.bytes += chunk.length));
            resolve(stream);
            return;
          }
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const body = Buffer.concat(chunks);
            stream.bytes = body.length;
            stream.code = (JSON.parse(body.toString()) as { code: string }).code;
            resolve(stream);
          });
        },
      );
      sent.on('error', reject);
      sent.end();
    });
  }

  const ended = (stream: OpenStream) =>
    new Promise<void>((resolve) => {
      if (stream.response.complete || stream.response.destroyed) resolve();
      stream.response.once('close', () => resolve());
    });

  it(`holds a user to ${STREAMS_PER_USER} open streams (429 TOO_MANY_EVENT_STREAMS), and takes new ones once some close`, async () => {
    const iterationId = (await client.train(projectId)).id;
    const report = await underAttack(baseUrl, () =>
      Promise.all(Array.from({ length: 3 * STREAMS_PER_USER }, () => openStream(iterationId))),
    );
    expectStayedLive(report, HEALTH_BOUND_MS, RSS_BOUND_BYTES);
    const streams = report.result;
    const open = streams.filter((stream) => stream.status === 200);
    const refused = streams.filter((stream) => stream.status !== 200);
    expect(open).toHaveLength(STREAMS_PER_USER);
    expect(new Set(refused.map((stream) => `${stream.status} ${stream.code}`))).toEqual(
      new Set(['429 TOO_MANY_EVENT_STREAMS']),
    );
    for (const stream of refused) expect(stream.bytes).toBeLessThan(1024);

    // Every open stream still follows the iteration to its end (one poll for all of them, not one each): a cancel
    // ends it as surely as its last epoch, without training the rest of it.
    await client.http
      .post(`/v1/projects/${projectId}/iterations/${iterationId}/cancel`)
      .set('Authorization', client.auth)
      .expect(200);
    await Promise.all(open.map(ended));
    for (const stream of open) expect(stream.response.complete).toBe(true);
    const sizes = open.map((stream) => stream.bytes);
    expect(Math.min(...sizes)).toBeGreaterThan(0);

    // Closed streams are no longer counted: the user may open as many again.
    const again = await Promise.all(Array.from({ length: STREAMS_PER_USER }, () => openStream(iterationId)));
    expect(again.map((stream) => stream.status)).toEqual(again.map(() => 200));
    await Promise.all(again.map(ended));
  });

  it('counts a stream whose client goes away as closed', async () => {
    const iterationId = (await client.train(projectId)).id;
    const first = await Promise.all(Array.from({ length: STREAMS_PER_USER }, () => openStream(iterationId)));
    expect(first.map((stream) => stream.status)).toEqual(first.map(() => 200));
    for (const stream of first) stream.request.destroy();
    await Promise.all(first.map(ended));
    // The api learns of each departure from its socket closing: give it a moment, then try again.
    let reopened: OpenStream[] = [];
    for (let attempt = 0; attempt < 50; attempt += 1) {
      reopened = await Promise.all(Array.from({ length: STREAMS_PER_USER }, () => openStream(iterationId)));
      if (reopened.every((stream) => stream.status === 200)) break;
      for (const stream of reopened) stream.request.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reopened.map((stream) => stream.status)).toEqual(reopened.map(() => 200));
    for (const stream of reopened) stream.request.destroy();
    await client.http
      .post(`/v1/projects/${projectId}/iterations/${iterationId}/cancel`)
      .set('Authorization', client.auth);
  });
});
