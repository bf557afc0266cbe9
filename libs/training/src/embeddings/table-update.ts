import { type CommandMetadata, isDomainError } from '@diyml/core/pure';
import { WRONG_EXPECTED_REVISION } from '@diyml/event-store';

/** A table update that lost the race to another writer is built again on the newer table this many times. */
const UPDATE_ATTEMPTS = 3;

/**
 * Runs `update` (read a project's embedding or feature-map table, add to it, record the new one) again while another
 * writer recorded its table first, up to UPDATE_ATTEMPTS times in all.
 */
export async function retryingLostTableRaces<T>(update: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await update();
    } catch (error) {
      const lostRace = isDomainError(error, 'EMBEDDING_TABLE_MOVED') || isDomainError(error, WRONG_EXPECTED_REVISION);
      if (!lostRace || attempt >= UPDATE_ATTEMPTS) throw error;
    }
  }
}

/**
 * The metadata a table update is recorded with: the system's (no user), as nobody asked for the cache, though it
 * stays in the correlation of the upload, configuration or training that led to it, caused by that event, so the
 * history still links the two.
 */
export function asSystemFollowUp(requestedBy: Omit<CommandMetadata, 'now'>): Omit<CommandMetadata, 'now'> {
  return { ...requestedBy, userId: null };
}
