import type { ProjectType } from '../../domain/project-type.js';
import type { TrainingConfig } from '../../domain/training-config.js';

export type { ProjectType } from '../../domain/project-type.js';

/** Read-model document of a project, in the `projects` collection (filled by the projects projection). */
export interface LabelView {
  id: string;
  name: string;
}

/** A label as its project holds it. */
export interface ProjectLabelView extends LabelView {
  /** The label's colour for its life: the lowest index no other label held when it was added. */
  colorIndex: number;
  /** The project's negative label: an image of it shows none of the other labels (at most one per project). */
  negative: boolean;
}

/** The lowest colour index none of `labels` holds: a removed label's index goes to the next label added. */
export function nextLabelColorIndex(labels: readonly ProjectLabelView[]): number {
  const taken = new Set(labels.map((label) => label.colorIndex));
  let index = 0;
  while (taken.has(index)) index += 1;
  return index;
}

export interface ProjectView {
  id: string;
  ownerId: string;
  name: string;
  type: ProjectType;
  description: string;
  labels: ProjectLabelView[];
  trainingConfig: TrainingConfig;
  createdAt: string;
  updatedAt: string;
  /** Revision of the project's stream, exposed as ETag. */
  revision: number;
}

export const PROJECTS = 'projects';
