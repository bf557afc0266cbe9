import { expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '@diyml/core/pure';
import type { RecordedEvent } from '@diyml/event-store';
// Straight to the files, not the lib's index: that one loads Nest, seconds per test file for nothing here.
import { InMemoryReadStore } from '../memory/in-memory-read-store.js';
import type { Projection } from '../projection.js';
import type { ReadStore } from '../read-store.port.js';

const defaultMetadata: EventMetadata = {
  userId: 'u1',
  correlationId: 'c1',
  causationId: null,
  at: '2026-02-01T00:00:00.000Z',
};

/** Builds recorded events as a log would: increasing positions, and revisions counted per stream. */
export class TestEventLog {
  private position = 0;
  private readonly revisions = new Map<string, number>();

  constructor(private readonly metadata: EventMetadata = defaultMetadata) {}

  record(streamId: string, event: { type: string; v: number; data: unknown }): RecordedEvent {
    const revision = (this.revisions.get(streamId) ?? -1) + 1;
    this.revisions.set(streamId, revision);
    this.position += 1;
    return {
      id: randomUUID(),
      streamId,
      revision,
      position: this.position,
      type: event.type,
      v: event.v,
      data: event.data,
      metadata: this.metadata,
    };
  }
}

/** Every document of the projection's collections, as clients get them (JSON). */
async function documents(projection: Projection, store: ReadStore): Promise<Record<string, unknown[]>> {
  const all: Record<string, unknown[]> = {};
  for (const name of projection.collections) {
    all[name] = JSON.parse(JSON.stringify(await store.collection(name).findAll())) as unknown[];
  }
  return all;
}

/**
 * Given events → then the read model, for projections:
 *   await projectionSpecification(new ProjectsProjection()).given(events).then(async (store) => { expect(...) });
 * `then` applies the events to a fresh in-memory read store and runs the check; then it applies every event once
 * more, as a subscription resumed from an older checkpoint would, and asserts that no document changed.
 */
export function projectionSpecification(projection: Projection) {
  return {
    given(events: readonly RecordedEvent[]) {
      return {
        async then(check: (store: ReadStore) => Promise<void> | void): Promise<ReadStore> {
          const store = new InMemoryReadStore();
          for (const event of events) await projection.apply(event, store);
          await check(store);
          const once = await documents(projection, store);
          for (const event of events) await projection.apply(event, store);
          expect(
            await documents(projection, store),
            'applying the same events again changed the read model: the projection must skip events it has applied',
          ).toEqual(once);
          return store;
        },
      };
    },
  };
}
