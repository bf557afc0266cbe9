import type { DomainEvent } from '@diyml/core/pure';
import type { ProjectType } from './project-type.js';
import type { RecordedTrainingConfig } from './training-config.js';

/** The stream of one project: the project itself, its labels and its training configuration. */
export const projectStream = (projectId: string) => `project-${projectId}`;

export const PROJECT_STREAM_PREFIX = 'project-';

// Every event carries projectId (as every event of a project-scoped context does), so the project's
// history can be indexed from event data alone. Times are ISO-8601 strings from the command metadata.

export type ProjectCreated = DomainEvent<
  'ProjectCreated',
  {
    projectId: string;
    ownerId: string;
    name: string;
    type: ProjectType;
    description: string;
    /**
     * The defaults for the type at creation time, so a replay never depends on today's defaults; events recorded
     * before a setting existed lack it (canonicalTrainingConfig fills it).
     */
    trainingConfig: RecordedTrainingConfig;
    createdAt: string;
  }
>;

export type ProjectRenamed = DomainEvent<
  'ProjectRenamed',
  { projectId: string; name: string; previousName: string; renamedAt: string }
>;

export type ProjectDescribed = DomainEvent<
  'ProjectDescribed',
  { projectId: string; description: string; describedAt: string }
>;

export type ProjectDeleted = DomainEvent<'ProjectDeleted', { projectId: string; name: string; deletedAt: string }>;

export type LabelAdded = DomainEvent<
  'LabelAdded',
  { projectId: string; labelId: string; name: string; addedAt: string }
>;

export type LabelRenamed = DomainEvent<
  'LabelRenamed',
  { projectId: string; labelId: string; name: string; previousName: string; renamedAt: string }
>;

export type LabelRemoved = DomainEvent<
  'LabelRemoved',
  { projectId: string; labelId: string; name: string; removedAt: string }
>;

export type TrainingConfigured = DomainEvent<
  'TrainingConfigured',
  { projectId: string; trainingConfig: RecordedTrainingConfig; configuredAt: string }
>;

/**
 * A label marked negative ("this image shows none of the other labels", Custom Vision's Negative tag) or back to a
 * regular label. At most one label of a project is negative; detection projects have none.
 */
export type LabelNegativeSet = DomainEvent<
  'LabelNegativeSet',
  { projectId: string; labelId: string; name: string; negative: boolean; setAt: string }
>;

/**
 * A project switched between one label per image (classification) and several (multilabel), as Custom Vision's
 * UpdateProject changes classificationType. Images keep their labels; detection projects never change type.
 */
export type ProjectTypeChanged = DomainEvent<
  'ProjectTypeChanged',
  { projectId: string; type: ProjectType; previousType: ProjectType; changedAt: string }
>;

export type ProjectEvent =
  | ProjectCreated
  | ProjectRenamed
  | ProjectDescribed
  | ProjectDeleted
  | LabelAdded
  | LabelRenamed
  | LabelRemoved
  | TrainingConfigured
  | LabelNegativeSet
  | ProjectTypeChanged;

export const PROJECT_EVENT_TYPES = [
  'ProjectCreated',
  'ProjectRenamed',
  'ProjectDescribed',
  'ProjectDeleted',
  'LabelAdded',
  'LabelRenamed',
  'LabelRemoved',
  'TrainingConfigured',
  'LabelNegativeSet',
  'ProjectTypeChanged',
] as const satisfies readonly ProjectEvent['type'][];
