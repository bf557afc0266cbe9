import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { embeddingCacheDecider } from './embedding-cache.decider.js';
import type { EmbeddingCacheEvent } from './embedding-cache.events.js';

const now = new Date('2026-05-01T12:00:00.000Z');
const metadata = { userId: null, correlationId: 'c1', now };
const space = {
  backbone: 'mobilenet-v2',
  layer: 'block_13_expand_relu',
  preprocessing: 'resize-224-fill-range-0..1-avgpool',
};
const update = (basedOn: string | null, tableSha256: string, computed = 4) =>
  ({
    type: 'UpdateEmbeddingTable',
    projectId: 'p1',
    space,
    basedOn,
    tableSha256,
    imageCount: 1,
    computed,
    metadata,
  }) as const;
const updated = (tableSha256: string): EmbeddingCacheEvent => ({
  type: 'EmbeddingTableUpdated',
  v: 1,
  data: { projectId: 'p1', space, tableSha256, imageCount: 1, computed: 4, updatedAt: now.toISOString() },
});
const spec = deciderSpecification(embeddingCacheDecider);

describe('embedding cache decider', () => {
  it('records the first table of a space', () => {
    spec
      .given([])
      .when(update(null, 't1'))
      .then([updated('t1')]);
  });

  it('records a table built from the current one', () => {
    spec
      .given([updated('t1')])
      .when(update('t1', 't2'))
      .then([updated('t2')]);
  });

  it('refuses a table built from an older version: its writer would drop the vectors added meanwhile', () => {
    spec
      .given([updated('t1'), updated('t2')])
      .when(update('t1', 't3'))
      .thenThrows('EMBEDDING_TABLE_MOVED');
  });

  it('records nothing when nothing was computed', () => {
    spec
      .given([updated('t1')])
      .when(update('t1', 't1', 0))
      .thenNothingHappens();
  });
});
