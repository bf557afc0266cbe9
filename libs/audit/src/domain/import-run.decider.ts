import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import type { ImportProgress, ImportRunEvent } from './import-run.events.js';

export type ImportRunCommand =
  | { type: 'StartImportRun'; importId: string; archiveBytes: number; metadata: CommandMetadata }
  | { type: 'RecordImportProgress'; importId: string; progress: ImportProgress; metadata: CommandMetadata }
  | {
      type: 'CompleteImportRun';
      importId: string;
      importedProjectId: string;
      sourceProjectId: string;
      eventCount: number;
      blobCount: number;
      metadata: CommandMetadata;
    }
  | {
      type: 'FailImportRun';
      importId: string;
      code: string;
      message: string;
      details: unknown;
      metadata: CommandMetadata;
    };

export interface ImportRunState {
  status: 'none' | 'running' | 'completed' | 'failed';
}

/**
 * An import in the background: started, then progress while it runs, then completed or failed, once. Progress of
 * a finished import is dropped (a heartbeat that raced the end), and failing it again changes nothing (two
 * replicas sweeping the same interrupted import).
 */
export const importRunDecider: Decider<ImportRunState, ImportRunCommand, ImportRunEvent> = {
  initialState: { status: 'none' },
  decide(command, state) {
    const at = command.metadata.now.toISOString();
    if (command.type === 'StartImportRun') {
      if (state.status !== 'none')
        throw DomainError.conflict('PROJECT_IMPORT_ALREADY_STARTED', `Import ${command.importId} was already started.`);
      return [
        {
          type: 'ProjectImportStarted',
          v: 1,
          data: { importId: command.importId, archiveBytes: command.archiveBytes, startedAt: at },
        },
      ];
    }
    if (state.status === 'none')
      throw DomainError.notFound('PROJECT_IMPORT_NOT_FOUND', `No import ${command.importId} was started.`);
    switch (command.type) {
      case 'RecordImportProgress':
        return state.status === 'running'
          ? [{ type: 'ProjectImportProgressed', v: 1, data: { importId: command.importId, ...command.progress } }]
          : [];
      case 'CompleteImportRun':
        if (state.status === 'failed')
          throw DomainError.conflict(
            'PROJECT_IMPORT_ALREADY_FAILED',
            `Import ${command.importId} was recorded as failed before it completed.`,
          );
        if (state.status === 'completed') return [];
        return [
          {
            type: 'ProjectImportCompleted',
            v: 1,
            data: {
              importId: command.importId,
              importedProjectId: command.importedProjectId,
              sourceProjectId: command.sourceProjectId,
              eventCount: command.eventCount,
              blobCount: command.blobCount,
              completedAt: at,
            },
          },
        ];
      case 'FailImportRun':
        if (state.status !== 'running') return [];
        return [
          {
            type: 'ProjectImportFailed',
            v: 1,
            data: {
              importId: command.importId,
              code: command.code,
              message: command.message,
              details: command.details ?? null,
              failedAt: at,
            },
          },
        ];
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ProjectImportStarted':
        return { status: 'running' };
      case 'ProjectImportCompleted':
        return { status: 'completed' };
      case 'ProjectImportFailed':
        return { status: 'failed' };
      default:
        return state;
    }
  },
};
