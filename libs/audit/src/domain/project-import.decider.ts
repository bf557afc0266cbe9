import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import type { ProjectImportEvent } from './project-import.events.js';

export interface ImportProjectCommand {
  type: 'ImportProject';
  projectId: string;
  sourceProjectId: string;
  sourceName: string;
  exportedAt: string;
  eventCount: number;
  blobCount: number;
  metadata: CommandMetadata;
}

export interface ProjectImportState {
  imported: boolean;
}

/** A project id is imported into at most once (a new id is drawn for every import). */
export const projectImportDecider: Decider<ProjectImportState, ImportProjectCommand, ProjectImportEvent> = {
  initialState: { imported: false },
  decide(command, state) {
    if (state.imported) {
      throw DomainError.conflict('PROJECT_ALREADY_IMPORTED', `Project ${command.projectId} was already imported.`);
    }
    return [
      {
        type: 'ProjectImported',
        v: 1,
        data: {
          projectId: command.projectId,
          sourceProjectId: command.sourceProjectId,
          sourceName: command.sourceName,
          exportedAt: command.exportedAt,
          eventCount: command.eventCount,
          blobCount: command.blobCount,
          importedAt: command.metadata.now.toISOString(),
        },
      },
    ];
  },
  evolve(state, event) {
    return event.type === 'ProjectImported' ? { imported: true } : state;
  },
};
