import type { DomainEvent } from '@diyml/core/pure';

/** One stream per imported project, beside the project's own: it records where the project came from. */
export const projectImportStream = (projectId: string) => `project-import-${projectId}`;

/**
 * A project was created here from an archive exported elsewhere. Appended before the project's imported events,
 * so an import that stopped half-way (the process died) is recognisable: fewer events follow than it counts.
 */
export type ProjectImported = DomainEvent<
  'ProjectImported',
  {
    projectId: string;
    /** The project's id where it was exported. */
    sourceProjectId: string;
    sourceName: string;
    exportedAt: string;
    /** Events and blobs the import writes after this one. */
    eventCount: number;
    blobCount: number;
    importedAt: string;
  }
>;

export type ProjectImportEvent = ProjectImported;

export const PROJECT_IMPORT_EVENT_TYPES = ['ProjectImported'] as const satisfies readonly ProjectImportEvent['type'][];
