import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type Projection } from '@diyml/read-store/pure';
import type { EmbeddingTableUpdated } from '../../domain/embedding-cache.events.js';
import { EMBEDDING_TABLES, type EmbeddingTableView } from './embedding-table.view.js';
import { EmbeddingTablesProjection } from './embedding-tables.projection.js';

const metadata = { userId: null, correlationId: 'c1', causationId: null, at: '2026-05-01T12:00:00.000Z' };
const space = {
  backbone: 'mobilenet-v2',
  layer: 'block_13_expand_relu',
  preprocessing: 'resize-224-fill-range-0..1-avgpool',
};

function updated(tableSha256: string, imageCount: number, position: number, revision: number): RecordedEvent {
  const event: EmbeddingTableUpdated = {
    type: 'EmbeddingTableUpdated',
    v: 1,
    data: { projectId: 'p1', space, tableSha256, imageCount, computed: 4, updatedAt: `t${revision}` },
  };
  return {
    id: randomUUID(),
    streamId: 'embedding-cache-p1-abc',
    revision,
    position,
    type: event.type,
    v: event.v,
    data: event.data,
    metadata,
  };
}

describe('embedding tables projection', () => {
  it("keeps each project's latest table per space; an event seen again changes nothing", async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new EmbeddingTablesProjection();
    await projection.apply(updated('t1', 10, 3, 0), store);
    await projection.apply(updated('t2', 12, 7, 1), store);
    await projection.apply(updated('t1', 10, 3, 0), store);
    expect(await store.collection<EmbeddingTableView>(EMBEDDING_TABLES).findAll({ projectId: 'p1' })).toEqual([
      {
        id: 'embedding-cache-p1-abc',
        projectId: 'p1',
        space,
        tableSha256: 't2',
        imageCount: 12,
        updatedAt: 't1',
        revision: 1,
      },
    ]);
  });
});
