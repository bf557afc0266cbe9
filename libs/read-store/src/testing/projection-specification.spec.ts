import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@diyml/event-store';
import type { Projection } from '../projection.js';
import type { ReadStore } from '../read-store.port.js';
import { projectionSpecification, TestEventLog } from './projection-specification.js';

interface Counter {
  id: string;
  count: number;
}

/** Counts events per stream; the unguarded one writes at ever new positions, so a repeated event counts again. */
function counting(guarded: boolean): Projection {
  let writes = 0;
  return {
    name: 'counter',
    version: 1,
    collections: ['counters'],
    eventTypes: 'all',
    async apply(event: RecordedEvent, store: ReadStore) {
      const counters = store.collection<Counter>('counters');
      const count = ((await counters.get(event.streamId))?.count ?? 0) + 1;
      writes += 1;
      const position = guarded ? event.position : writes;
      await counters.apply(event.streamId, position, () => ({ id: event.streamId, count }));
    },
  };
}

describe('projection specification', () => {
  const log = new TestEventLog();
  const events = [
    log.record('s-1', { type: 'Ticked', v: 1, data: {} }),
    log.record('s-1', { type: 'Ticked', v: 1, data: {} }),
  ];

  it('gives the read model built from the events, with positions and per-stream revisions as a log gives them', async () => {
    expect(events.map(({ position, revision }) => ({ position, revision }))).toEqual([
      { position: 1, revision: 0 },
      { position: 2, revision: 1 },
    ]);
    await projectionSpecification(counting(true))
      .given(events)
      .then(async (store) =>
        expect(await store.collection<Counter>('counters').get('s-1')).toEqual({ id: 's-1', count: 2 }),
      );
  });

  it('fails a projection that changes a document when an event is applied again', async () => {
    await expect(
      projectionSpecification(counting(false))
        .given(events)
        .then(() => undefined),
    ).rejects.toThrow(/applying the same events again changed the read model/);
  });
});
