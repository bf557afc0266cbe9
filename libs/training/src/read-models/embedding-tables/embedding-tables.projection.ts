import { Injectable } from '@nestjs/common';
import type { RecordedEvent } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store';
import { EMBEDDING_CACHE_EVENT_TYPES, type EmbeddingCacheEvent } from '../../domain/embedding-cache.events.js';
import { EMBEDDING_TABLES, type EmbeddingTableView } from './embedding-table.view.js';

/** The latest background embedding table of each project and space. */
@ReadModelProjection()
@Injectable()
export class EmbeddingTablesProjection implements Projection {
  readonly name = 'embedding-tables';
  readonly version = 1;
  readonly collections = [EMBEDDING_TABLES];
  readonly eventTypes = EMBEDDING_CACHE_EVENT_TYPES;

  async apply(recorded: RecordedEvent, store: ReadStore): Promise<void> {
    const event = recorded as unknown as EmbeddingCacheEvent;
    const { projectId, space, tableSha256, imageCount, updatedAt } = event.data;
    await store.collection<EmbeddingTableView>(EMBEDDING_TABLES).apply(recorded.streamId, recorded.position, () => ({
      id: recorded.streamId,
      projectId,
      space,
      tableSha256,
      imageCount,
      updatedAt,
      revision: recorded.revision,
    }));
  }
}
