import { createHash } from 'node:crypto';
import type { DomainEvent } from '@diyml/core/pure';

/** What an embedding depends on besides the image (libs/ml EmbeddingSpace). */
export interface EmbeddingSpaceData {
  backbone: string;
  layer: string;
  preprocessing: string;
}

/** One stream per (project, embedding space): the project's table of embeddings computed in the background. */
export const embeddingCacheStream = (projectId: string, spaceKey: string) =>
  `embedding-cache-${projectId}-${createHash('sha256').update(spaceKey).digest('hex').slice(0, 16)}`;

/**
 * A new version of a project's embedding table (a blob holding every vector of the previous one and those just
 * computed), written after uploads or a configuration change, so training finds them done.
 */
export type EmbeddingTableUpdated = DomainEvent<
  'EmbeddingTableUpdated',
  {
    projectId: string;
    space: EmbeddingSpaceData;
    /** sha256 of the table blob. */
    tableSha256: string;
    /** Images in the table, and (image × view) vectors computed for this version. */
    imageCount: number;
    computed: number;
    updatedAt: string;
  }
>;

export type EmbeddingCacheEvent = EmbeddingTableUpdated;

export const EMBEDDING_CACHE_EVENT_TYPES = [
  'EmbeddingTableUpdated',
] as const satisfies readonly EmbeddingCacheEvent['type'][];
