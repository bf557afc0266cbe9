import type { ProjectType } from '../../domain/project-type.js';
import type { TrainingConfig } from '../../domain/training-config.js';

export type { ProjectType } from '../../domain/project-type.js';

/** Read-model document of a project, in the `projects` collection (filled by the projects projection). */
export interface LabelView {
  id: string;
  name: string;
}

export interface ProjectView {
  id: string;
  ownerId: string;
  name: string;
  type: ProjectType;
  description: string;
  labels: LabelView[];
  trainingConfig: TrainingConfig;
  createdAt: string;
  updatedAt: string;
  /** Revision of the project's stream, exposed as ETag. */
  revision: number;
}

export const PROJECTS = 'projects';
