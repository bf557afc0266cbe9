import { Injectable } from '@nestjs/common';
import type { EventMetadata } from '@diyml/core/pure';
import type { RecordedEvent } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';

export const PROJECT_HISTORY = 'project-history';

/** One event of a project's history: any event, of any context, whose data names the project. */
export interface ProjectHistoryEntry {
  /** The log position, zero-padded so ids sort like positions. */
  id: string;
  position: number;
  projectId: string;
  stream: string;
  type: string;
  v: number;
  data: unknown;
  metadata: { userId: string | null; correlationId: string; at: string };
}

export function historyEntryId(position: number): string {
  return String(position).padStart(16, '0');
}

/** Keys whose values must never be shown, wherever they are nested (hashes, prefixes and ids of them are fine). */
const SECRET_KEY = /(password|secret|apikey|token|privatekey)$/i;

/** The event data as the history shows it: secrets (should an event ever hold one) are replaced. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, entry]) => [key, SECRET_KEY.test(key) ? '[redacted]' : redactSecrets(entry)]),
  );
}

/**
 * Indexes every event that carries a `projectId` in its data, from every context, by project. Deleting a
 * project leaves its entries (and the log) as they are; the history route 404s through ProjectAccess.
 */
@ReadModelProjection()
@Injectable()
export class ProjectHistoryProjection implements Projection {
  readonly name = 'project-history';
  readonly version = 1;
  readonly collections = [PROJECT_HISTORY];
  readonly eventTypes = 'all' as const;

  async apply(recorded: RecordedEvent, store: ReadStore): Promise<void> {
    const projectId = (recorded.data as { projectId?: unknown } | null)?.projectId;
    if (typeof projectId !== 'string') return;
    const metadata: EventMetadata = recorded.metadata;
    const entry: ProjectHistoryEntry = {
      id: historyEntryId(recorded.position),
      position: recorded.position,
      projectId,
      stream: recorded.streamId,
      type: recorded.type,
      v: recorded.v,
      data: redactSecrets(recorded.data),
      metadata: { userId: metadata.userId, correlationId: metadata.correlationId, at: metadata.at },
    };
    await store.collection<ProjectHistoryEntry>(PROJECT_HISTORY).apply(entry.id, recorded.position, () => entry);
  }
}
