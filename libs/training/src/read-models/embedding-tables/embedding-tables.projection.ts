import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';
import { EMBEDDING_CACHE_EVENT_TYPES, type EmbeddingCacheEvent } from '../../domain/embedding-cache.events.js';
import { EMBEDDING_TABLES, type EmbeddingTableView } from './embedding-table.view.js';

/** The latest background embedding table of each project and space. */
@ReadModelProjection()
@Injectable()
export class EmbeddingTablesProjection implements Projection<EmbeddingCacheEvent> {
  readonly name = 'embedding-tables';
  readonly version = 1;
  readonly collections = [EMBEDDING_TABLES];
  readonly eventTypes = EMBEDDING_CACHE_EVENT_TYPES;

  async apply(event: Recorded<EmbeddingCacheEvent>, store: ReadStore): Promise<void> {
    const { projectId, space, tableSha256, imageCount, updatedAt } = event.data;
    await store.collection<EmbeddingTableView>(EMBEDDING_TABLES).apply(event.streamId, event.position, () => ({
      id: event.streamId,
      projectId,
      space,
      tableSha256,
      imageCount,
      updatedAt,
      revision: event.revision,
    }));
  }
}
