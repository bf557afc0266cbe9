import type { Page } from '@diyml/core';
import { encodeCursor, type ReadStore } from '@diyml/read-store';
import { historyEntryId, PROJECT_HISTORY, type ProjectHistoryEntry } from './project-history.projection.js';

export interface ProjectHistoryQuery {
  projectId: string;
  /** Exclusive log position; -1 or undefined starts at the beginning. */
  after?: number;
  limit: number;
  /** Only these event types (empty or undefined: all). */
  types?: readonly string[];
  /** Inclusive bounds on the time the event was recorded (metadata.at). */
  from?: Date;
  to?: Date;
  /** Only events caused by this user; null: only those the system caused on its own. */
  userId?: string | null;
}

/** Most entries one request looks at when filtering by time or user, so a page costs a bounded amount of work. */
export const HISTORY_SCAN_BUDGET = 5000;
const SCAN_BATCH = 500;

/**
 * A page of a project's history in log order. Filtering by time or user can leave a page short (even empty) with a
 * `nextCursor` when the scan budget ran out: the client just continues from it. `nextCursor` is a log
 * position, to pass as `after`.
 */
export async function findProjectHistory(
  readStore: ReadStore,
  query: ProjectHistoryQuery,
): Promise<Page<ProjectHistoryEntry>> {
  const collection = readStore.collection<ProjectHistoryEntry>(PROJECT_HISTORY);
  const types = query.types?.length ? new Set(query.types) : undefined;
  const where = { projectId: query.projectId, ...(types?.size === 1 ? { type: [...types][0] } : {}) };
  const from = query.from?.getTime() ?? Number.NEGATIVE_INFINITY;
  const to = query.to?.getTime() ?? Number.POSITIVE_INFINITY;
  const wanted = (entry: ProjectHistoryEntry) => {
    const at = Date.parse(entry.metadata.at);
    const byWanted = query.userId === undefined || (entry.metadata.userId ?? null) === query.userId;
    return (!types || types.has(entry.type)) && at >= from && at <= to && byWanted;
  };
  const filtersInMemory =
    (types?.size ?? 0) > 1 || query.from !== undefined || query.to !== undefined || query.userId !== undefined;

  const items: ProjectHistoryEntry[] = [];
  let after = query.after ?? -1;
  let scanned = 0;
  for (;;) {
    const batch = filtersInMemory ? Math.min(SCAN_BATCH, HISTORY_SCAN_BUDGET - scanned) : query.limit - items.length;
    const page = await collection.find({
      where,
      orderBy: 'position',
      limit: batch,
      cursor: after < 0 ? undefined : encodeCursor(after, historyEntryId(after)),
    });
    for (const [index, entry] of page.items.entries()) {
      scanned += 1;
      after = entry.position;
      if (!wanted(entry)) continue;
      items.push(entry);
      if (items.length === query.limit) {
        const more = index < page.items.length - 1 || page.nextCursor !== null;
        return { items, nextCursor: more ? String(after) : null };
      }
    }
    if (page.nextCursor === null) return { items, nextCursor: null };
    if (scanned >= HISTORY_SCAN_BUDGET) return { items, nextCursor: String(after) };
  }
}
