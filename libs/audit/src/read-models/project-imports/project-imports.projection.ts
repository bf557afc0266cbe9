import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore, updateStreamDocument } from '@diyml/read-store/pure';
import { IMPORT_RUN_EVENT_TYPES, type ImportProgress, type ImportRunEvent } from '../../domain/import-run.events.js';

export const PROJECT_IMPORTS = 'project-imports';

/** Read-model document of one import that runs in the background (collection `project-imports`). */
export interface ProjectImportView {
  id: string;
  /** Who sent the archive: the only one who reads the status. */
  userId: string | null;
  status: 'pending' | 'done' | 'failed';
  archiveBytes: number;
  startedAt: string;
  finishedAt: string | null;
  /** Time of its latest event: a pending import not heard of for long is one whose api stopped. */
  lastSeenAt: string;
  progress: ImportProgress | null;
  projectId: string | null;
  sourceProjectId: string | null;
  error: { code: string; message: string; details: unknown } | null;
  revision: number;
}

/** Imports answered with 202, their progress and their outcome, as GET /v1/projects/imports/{importId} shows them. */
@ReadModelProjection()
@Injectable()
export class ProjectImportsProjection implements Projection<ImportRunEvent> {
  readonly name = 'project-imports';
  readonly version = 1;
  readonly collections = [PROJECT_IMPORTS];
  readonly eventTypes = IMPORT_RUN_EVENT_TYPES;

  async apply(event: Recorded<ImportRunEvent>, store: ReadStore): Promise<void> {
    const imports = store.collection<ProjectImportView>(PROJECT_IMPORTS);
    const lastSeenAt = event.metadata.at;
    const update = (change: (view: ProjectImportView) => Partial<ProjectImportView>) =>
      updateStreamDocument(imports, event.data.importId, event, (view) => ({ ...change(view), lastSeenAt }));
    switch (event.type) {
      case 'ProjectImportStarted':
        await imports.apply(event.data.importId, event.position, () => ({
          id: event.data.importId,
          userId: event.metadata.userId,
          status: 'pending',
          archiveBytes: event.data.archiveBytes,
          startedAt: event.data.startedAt,
          finishedAt: null,
          lastSeenAt,
          progress: null,
          projectId: null,
          sourceProjectId: null,
          error: null,
          revision: event.revision,
        }));
        return;
      case 'ProjectImportProgressed': {
        const { importId: _importId, ...progress } = event.data;
        await update(() => ({ progress }));
        return;
      }
      case 'ProjectImportCompleted':
        await update((view) => ({
          status: 'done',
          finishedAt: event.data.completedAt,
          projectId: event.data.importedProjectId,
          sourceProjectId: event.data.sourceProjectId,
          progress: view.progress && {
            ...view.progress,
            phase: 'finishing',
            blobsStored: event.data.blobCount,
            blobCount: event.data.blobCount,
            eventsWritten: event.data.eventCount,
            eventCount: event.data.eventCount,
            importedProjectId: event.data.importedProjectId,
          },
        }));
        return;
      case 'ProjectImportFailed':
        await update(() => ({
          status: 'failed',
          finishedAt: event.data.failedAt,
          error: { code: event.data.code, message: event.data.message, details: event.data.details },
        }));
        return;
    }
  }
}
