import type { DomainEvent } from '@diyml/core/pure';

/**
 * One stream per import answered with 202 (running in the background): its lifecycle, so its status survives a
 * restart and reads the same on every api replica. Not a project stream: its events name the new project as
 * `importedProjectId`, never `projectId`, so they stay out of the project's history and of its exports.
 */
export const importRunStream = (importId: string) => `archive-import-${importId}`;

/** What a running import is doing: checking the archive, storing its blobs, writing its events, then the rest. */
export const IMPORT_PHASES = ['checking', 'storing-blobs', 'writing-events', 'finishing'] as const;
export type ImportPhase = (typeof IMPORT_PHASES)[number];

/** How far a running import got; the totals are 0 and the new project null until the archive was checked. */
export interface ImportProgress {
  phase: ImportPhase;
  blobsStored: number;
  blobCount: number;
  eventsWritten: number;
  eventCount: number;
  importedProjectId: string | null;
}

export type ProjectImportStarted = DomainEvent<
  'ProjectImportStarted',
  { importId: string; archiveBytes: number; startedAt: string }
>;

/** Appended when the phase changes and at least every IMPORT_HEARTBEAT_MS while it runs: how sweepers tell it is alive. */
export type ProjectImportProgressed = DomainEvent<'ProjectImportProgressed', { importId: string } & ImportProgress>;

export type ProjectImportCompleted = DomainEvent<
  'ProjectImportCompleted',
  {
    importId: string;
    importedProjectId: string;
    sourceProjectId: string;
    eventCount: number;
    blobCount: number;
    completedAt: string;
  }
>;

/** The error a synchronous import would have answered, or IMPORT_INTERRUPTED when the api stopped meanwhile. */
export type ProjectImportFailed = DomainEvent<
  'ProjectImportFailed',
  { importId: string; code: string; message: string; details: unknown; failedAt: string }
>;

export type ImportRunEvent =
  ProjectImportStarted | ProjectImportProgressed | ProjectImportCompleted | ProjectImportFailed;

export const IMPORT_RUN_EVENT_TYPES = [
  'ProjectImportStarted',
  'ProjectImportProgressed',
  'ProjectImportCompleted',
  'ProjectImportFailed',
] as const satisfies readonly ImportRunEvent['type'][];
