import type { EmbeddingSpaceData } from '../../domain/embedding-cache.events.js';

export const EMBEDDING_TABLES = 'embedding-tables';

/** Read-model document of a project's background embedding table in one space, in `embedding-tables`. */
export interface EmbeddingTableView {
  /** The stream id (project and space). */
  id: string;
  projectId: string;
  space: EmbeddingSpaceData;
  tableSha256: string;
  imageCount: number;
  updatedAt: string;
  revision: number;
}
