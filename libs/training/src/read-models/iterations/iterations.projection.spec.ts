import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type Projection, type ReadStore } from '@diyml/read-store/pure';
import { projectionSpecification, TestEventLog } from '@diyml/read-store/testing/projection-specification.js';
import type { IterationEvent } from '../../domain/iteration.events.js';
import { ITERATIONS, type IterationView } from './iteration.view.js';
import { IterationsProjection } from './iterations.projection.js';

const metadata = { userId: 'u1', correlationId: 'c1', causationId: null, at: '2026-05-01T12:00:00.000Z' };

function recorded(event: IterationEvent, position: number, revision = 0): RecordedEvent {
  return {
    id: randomUUID(),
    streamId: `iteration-${event.data.iterationId}`,
    revision,
    position,
    type: event.type,
    v: event.v,
    data: event.data,
    metadata,
  };
}

const imported: IterationEvent = {
  type: 'ModelImported',
  v: 1,
  data: {
    projectId: 'p1',
    iterationId: 'i1',
    number: 2,
    task: 'classification',
    labels: [
      { id: 'l1', name: 'cat' },
      { id: 'l2', name: 'dog' },
    ],
    architecture: 'imported',
    format: 'teachable-machine',
    manifestSha256: 'empty',
    modelSha256: 'm'.repeat(64),
    modelBytes: 1234,
    importedAt: '2026-05-01T12:00:00.000Z',
  },
};

describe('iterations projection', () => {
  it('shows an imported model as a completed iteration with its model, its format, no metrics and no training facts; a repeat changes nothing', async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new IterationsProjection();
    await projection.apply(recorded(imported, 5), store);
    const view = await store.collection<IterationView>(ITERATIONS).get('i1');
    expect(view).toMatchObject({
      id: 'i1',
      projectId: 'p1',
      number: 2,
      status: 'completed',
      imported: true,
      importFormat: 'teachable-machine',
      labels: imported.data.labels,
      seed: null,
      imageCount: null,
      architecture: 'imported',
      model: { sha256: 'm'.repeat(64), bytes: 1234 },
      metrics: null,
      manifestSha256: 'empty',
      completedAt: '2026-05-01T12:00:00.000Z',
      revision: 0,
    });
    await projection.apply(
      recorded({ ...imported, data: { ...imported.data, number: 99 } } as IterationEvent, 5),
      store,
    );
    expect((await store.collection<IterationView>(ITERATIONS).get('i1'))?.number).toBe(2);
  });

  it('names an iteration "Iteration <number>" until it is renamed, and removes it once deleted', async () => {
    const spec = projectionSpecification(new IterationsProjection());
    const log = new TestEventLog();
    const importedEvent = log.record('iteration-i1', imported);
    const renamed = log.record('iteration-i1', {
      type: 'IterationRenamed',
      v: 1,
      data: { projectId: 'p1', iterationId: 'i1', name: 'Baseline' },
    });
    const deleted = log.record('iteration-i1', {
      type: 'IterationDeleted',
      v: 1,
      data: { projectId: 'p1', iterationId: 'i1', deletedAt: 'd' },
    });
    const iterations = (store: ReadStore) => store.collection<IterationView>(ITERATIONS);

    await spec
      .given([importedEvent])
      .then(async (store) => expect((await iterations(store).get('i1'))?.name).toBe('Iteration 2'));
    await spec
      .given([importedEvent, renamed])
      .then(async (store) =>
        expect(await iterations(store).get('i1')).toMatchObject({ name: 'Baseline', revision: 1 }),
      );
    await spec.given([importedEvent, renamed, deleted]).then(async (store) => {
      expect(await iterations(store).get('i1')).toBeUndefined();
      expect((await iterations(store).find({ where: { projectId: 'p1' }, limit: 10 })).items).toEqual([]);
    });
  });
});
