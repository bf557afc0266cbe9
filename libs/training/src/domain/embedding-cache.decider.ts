import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import type { EmbeddingCacheEvent, EmbeddingSpaceData } from './embedding-cache.events.js';

export type EmbeddingCacheCommand = {
  type: 'UpdateEmbeddingTable';
  projectId: string;
  space: EmbeddingSpaceData;
  /** The table version the new one was built from: refused when another update came first (its vectors would be lost). */
  basedOn: string | null;
  tableSha256: string;
  imageCount: number;
  computed: number;
  metadata: CommandMetadata;
};

export interface EmbeddingCacheState {
  tableSha256: string | null;
}

export const embeddingCacheDecider: Decider<EmbeddingCacheState, EmbeddingCacheCommand, EmbeddingCacheEvent> = {
  initialState: { tableSha256: null },

  decide(command, state) {
    if (command.basedOn !== state.tableSha256) {
      throw DomainError.conflict(
        'EMBEDDING_TABLE_MOVED',
        `The embedding table was updated meanwhile (now ${state.tableSha256 ?? 'none'}, built from ${command.basedOn ?? 'none'}); build again from the current one.`,
      );
    }
    if (command.computed === 0 || command.tableSha256 === state.tableSha256) return [];
    const { projectId, space, tableSha256, imageCount, computed } = command;
    return [
      {
        type: 'EmbeddingTableUpdated',
        v: 1,
        data: { projectId, space, tableSha256, imageCount, computed, updatedAt: command.metadata.now.toISOString() },
      },
    ];
  },

  // Each table holds everything of the one before: the latest is the whole state.
  evolve(_state, event) {
    return { tableSha256: event.data.tableSha256 };
  },
};
