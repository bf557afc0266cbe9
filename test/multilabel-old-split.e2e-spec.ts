import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { EventStore } from '@diyml/event-store';
import { ApiClient } from './support/api-client.js';
import { colourPicture, MULTILABEL_TRAINING_CONFIG } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

interface Iteration {
  id: string;
  status: string;
  trainCount: number;
  validationCount: number;
  metrics: { perLabel: { label: string; support: number }[] };
  model: { sha256: string };
  reproduction?: { sameMetrics: boolean; sameModel: boolean };
}

const supportByLabel = (iteration: Iteration) =>
  Object.fromEntries(iteration.metrics.perLabel.map(({ label, support }) => [label, support]));

describe('multilabel validation split: reproductions of iterations queued before per-label splitting', () => {
  let testApp: TestApp;
  let client: ApiClient;
  let userId: string;
  let projectId: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    const user = await registerAndLogIn(testApp);
    client = new ApiClient(testApp, user.auth);
    userId = user.id;
    // Blue is only ever beside red, on 5 of 40 photos: one random fifth of the 40 may take none or several of them.
    projectId = (await client.createProject('multilabel', ['red', 'green', 'blue'], 'rare blue')).id;
    let seed = 900;
    for (const [set, count] of [
      [['red'], 30],
      [['red', 'blue'], 5],
      [['green'], 5],
    ] as const) {
      const files = await Promise.all(Array.from({ length: count }, () => colourPicture(set, seed++)));
      await client.upload(projectId, files, { labels: JSON.stringify(set) }, set.join('-'));
    }
  }, 60_000);
  afterAll(async () => {
    await testApp?.destroy();
  });

  const reproduce = async (iterationId: string): Promise<Iteration> => {
    const queued = await client.http
      .post(`/v1/projects/${projectId}/iterations/${iterationId}/reproduce`)
      .set('Authorization', client.auth)
      .expect(202);
    return (await client.waitForIteration(projectId, queued.body.id, 120_000)) as Iteration;
  };

  /**
   * Queues `spec` as a version of diyml before per-label splitting did: its IterationQueued v1 has no
   * multilabelSplitByLabel. The number is reserved on the project's numbering stream, as queueing does.
   */
  const queueAsOldVersion = async (spec: Record<string, unknown>): Promise<string> => {
    const events = testApp.app.get(EventStore);
    const iterationId = randomUUID();
    const metadata = () => ({ userId, correlationId: randomUUID(), causationId: null, at: new Date().toISOString() });
    await events.append(
      `iteration-numbers-${projectId}`,
      [{ type: 'IterationNumberReserved', v: 1, data: { projectId, iterationId, number: 2 } }],
      { expectedRevision: 'any', metadata: metadata() },
    );
    await events.append(
      `iteration-${iterationId}`,
      [
        {
          type: 'IterationQueued',
          v: 1,
          data: { ...spec, iterationId, number: 2, queuedAt: new Date().toISOString() },
        },
      ],
      { expectedRevision: 'no_stream', metadata: metadata() },
    );
    return iterationId;
  };

  it('draws the validation photos at random again for an old iteration, per label for a new one', async () => {
    const queued = await client.train(projectId, { ...MULTILABEL_TRAINING_CONFIG, epochs: 2, validationSplit: 0.2 });
    const perLabel = (await client.waitForIteration(projectId, queued.id, 120_000)) as Iteration;
    // A fifth of each group: 6 of the 30 red, 1 of the 5 red-and-blue (blue is their rarest label), 1 of the 5 green.
    expect(perLabel).toMatchObject({ status: 'completed', trainCount: 32, validationCount: 8 });
    expect(supportByLabel(perLabel)).toEqual({ red: 7, green: 1, blue: 1 });
    const history = await client.http
      .get(`/v1/projects/${projectId}/history?type=IterationQueued`)
      .set('Authorization', client.auth)
      .expect(200);
    const { multilabelSplitByLabel, ...oldSpec } = history.body.items[0].data as Record<string, unknown>;
    expect(multilabelSplitByLabel).toBe(true);

    // The same dataset, configuration and seed, queued as before the flag existed: drawn at random, a fifth of all 40.
    const oldId = await queueAsOldVersion(oldSpec);
    const old = (await client.waitForIteration(projectId, oldId, 120_000)) as Iteration;
    expect(old).toMatchObject({ status: 'completed', trainCount: 32, validationCount: 8 });
    // That fifth took none of the 5 red-and-blue photos: blue is not validated at all, the reason for the new split.
    expect(supportByLabel(old)).toEqual({ red: 7, green: 1, blue: 0 });
    expect(old.model.sha256).not.toBe(perLabel.model.sha256);

    const oldAgain = await reproduce(oldId);
    expect(oldAgain).toMatchObject({
      status: 'completed',
      trainCount: 32,
      validationCount: 8,
      metrics: old.metrics,
      model: { sha256: old.model.sha256 },
      reproduction: { sameMetrics: true, sameModel: true },
    });
    const perLabelAgain = await reproduce(perLabel.id);
    expect(perLabelAgain).toMatchObject({
      status: 'completed',
      metrics: perLabel.metrics,
      model: { sha256: perLabel.model.sha256 },
      reproduction: { sameMetrics: true, sameModel: true },
    });
    const requeued = await client.http
      .get(`/v1/projects/${projectId}/history?type=IterationQueued`)
      .set('Authorization', client.auth)
      .expect(200);
    const flags = (requeued.body.items as { data: Record<string, unknown> }[]).map((item) => [
      item.data.number,
      item.data.multilabelSplitByLabel,
    ]);
    expect(flags).toEqual([
      [1, true],
      [2, undefined],
      [3, undefined],
      [4, true],
    ]);
  }, 300_000);
});
