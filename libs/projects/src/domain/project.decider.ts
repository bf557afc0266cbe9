import { type CommandMetadata, type Decider, DomainError, requirePlainText, validationMessage } from '@diyml/core/pure';
import type { ProjectEvent } from './project.events.js';
import { isProjectType, PROJECT_TYPES, type ProjectType } from './project-type.js';
import {
  canonicalTrainingConfig,
  defaultTrainingConfig,
  resolveTrainingConfig,
  sameTrainingConfig,
  type TrainingConfig,
} from './training-config.js';

export const MAX_PROJECT_NAME_LENGTH = 100;
export const MAX_DESCRIPTION_LENGTH = 2000;
export const MAX_LABEL_NAME_LENGTH = 100;
export const MAX_LABELS_PER_PROJECT = 500;

export type ProjectCommand =
  | {
      type: 'CreateProject';
      projectId: string;
      ownerId: string;
      name: string;
      projectType: ProjectType;
      description?: string;
      metadata: CommandMetadata;
    }
  | { type: 'RenameProject'; name: string; metadata: CommandMetadata }
  | { type: 'DescribeProject'; description: string; metadata: CommandMetadata }
  /**
   * PATCH: a rename, a new description and a new type (classification ↔ multilabel) in one decision (each may be
   * left out). `imagesWithSeveralLabels`: images of the project holding more than one label (from the images read
   * model, at most a few), which a switch to classification refuses.
   */
  | {
      type: 'UpdateProject';
      name?: string;
      description?: string;
      projectType?: ProjectType;
      imagesWithSeveralLabels?: readonly string[];
      metadata: CommandMetadata;
    }
  | { type: 'DeleteProject'; metadata: CommandMetadata }
  | { type: 'AddLabel'; labelId: string; name: string; negative?: boolean; metadata: CommandMetadata }
  /**
   * Marks a label negative (an image of it shows none of the other labels) or back to regular. `imagesWithOtherLabels`:
   * images holding this label and another one (from the images read model), which marking it negative refuses.
   */
  | {
      type: 'SetLabelNegative';
      labelId: string;
      negative: boolean;
      imagesWithOtherLabels?: readonly string[];
      metadata: CommandMetadata;
    }
  | { type: 'RenameLabel'; labelId: string; name: string; metadata: CommandMetadata }
  | { type: 'RemoveLabel'; labelId: string; metadata: CommandMetadata }
  /** PUT: replaces the configuration; settings left out take the defaults for the project type. */
  | { type: 'ConfigureTraining'; trainingConfig: unknown; metadata: CommandMetadata };

export interface ProjectState {
  status: 'none' | 'active' | 'deleted';
  projectId: string | null;
  ownerId: string | null;
  projectType: ProjectType | null;
  name: string;
  description: string;
  labels: readonly ProjectLabel[];
  trainingConfig: TrainingConfig | null;
}

export interface ProjectLabel {
  id: string;
  name: string;
  /** The project's negative label ("none of the others"); at most one per project. */
  negative: boolean;
}

/** Stable error codes of negative labels and type changes (Custom Vision maps them to its own). */
export const ProjectErrors = {
  /** 409: the project has a negative label already (Custom Vision: BadRequestMultipleNegativeTag). */
  NEGATIVE_LABEL_EXISTS: 'NEGATIVE_LABEL_EXISTS',
  /** 400: detection projects have no negative label (Custom Vision: BadRequestDetectionTrainingNotAllowNegativeTag). */
  NEGATIVE_LABEL_NOT_FOR_DETECTION: 'NEGATIVE_LABEL_NOT_FOR_DETECTION',
  /** 409: images carry the label and another one (Custom Vision: BadRequestNegativeAndRegularTagOnSameImage). */
  NEGATIVE_AND_REGULAR_LABEL: 'NEGATIVE_AND_REGULAR_LABEL',
  /** 400: only classification ↔ multilabel switches exist (Custom Vision: BadRequestProjectUnsupportedDomainTypeChange). */
  PROJECT_TYPE_CHANGE_NOT_SUPPORTED: 'PROJECT_TYPE_CHANGE_NOT_SUPPORTED',
  /** 409: images hold several labels, which a classification project cannot. */
  IMAGES_HAVE_SEVERAL_LABELS: 'IMAGES_HAVE_SEVERAL_LABELS',
} as const;

const initialState: ProjectState = {
  status: 'none',
  projectId: null,
  ownerId: null,
  projectType: null,
  name: '',
  description: '',
  labels: [],
  trainingConfig: null,
};

interface ActiveProject extends ProjectState {
  status: 'active';
  projectId: string;
  projectType: ProjectType;
  trainingConfig: TrainingConfig;
}

export const projectDecider: Decider<ProjectState, ProjectCommand, ProjectEvent> = {
  initialState,

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    switch (command.type) {
      case 'CreateProject': {
        if (state.status !== 'none') {
          throw DomainError.conflict('PROJECT_ALREADY_EXISTS', `Project ${command.projectId} already exists.`);
        }
        if (!isProjectType(command.projectType)) {
          throw invalid('type', `type must be one of ${PROJECT_TYPES.join(', ')}`);
        }
        return [
          {
            type: 'ProjectCreated',
            v: 1,
            data: {
              projectId: command.projectId,
              ownerId: command.ownerId,
              name: projectName(command.name),
              type: command.projectType,
              description: description(command.description ?? ''),
              trainingConfig: defaultTrainingConfig(command.projectType),
              createdAt: at,
            },
          },
        ];
      }
      case 'RenameProject':
        return rename(requireActive(state), command.name, at);
      case 'DescribeProject':
        return describe(requireActive(state), command.description, at);
      case 'UpdateProject': {
        const project = requireActive(state);
        return [
          ...(command.name === undefined ? [] : rename(project, command.name, at)),
          ...(command.description === undefined ? [] : describe(project, command.description, at)),
          ...(command.projectType === undefined
            ? []
            : changeType(project, command.projectType, command.imagesWithSeveralLabels ?? [], at)),
        ];
      }
      case 'DeleteProject': {
        const project = requireActive(state);
        return [
          { type: 'ProjectDeleted', v: 1, data: { projectId: project.projectId, name: project.name, deletedAt: at } },
        ];
      }
      case 'AddLabel': {
        const project = requireActive(state);
        const name = labelName(command.name);
        if (project.labels.some((label) => label.id === command.labelId)) {
          throw DomainError.conflict('LABEL_ALREADY_EXISTS', `Label ${command.labelId} already exists.`);
        }
        assertLabelNameFree(project, name);
        if (project.labels.length >= MAX_LABELS_PER_PROJECT) {
          throw DomainError.unprocessable(
            'TOO_MANY_LABELS',
            `A project can have at most ${MAX_LABELS_PER_PROJECT} labels: remove one first.`,
          );
        }
        const added: ProjectEvent = {
          type: 'LabelAdded',
          v: 1,
          data: { projectId: project.projectId, labelId: command.labelId, name, addedAt: at },
        };
        if (!command.negative) return [added];
        const withLabel = projectDecider.evolve(project, added) as ActiveProject;
        return [added, ...setNegative(withLabel, command.labelId, true, [], at)];
      }
      case 'SetLabelNegative':
        return setNegative(
          requireActive(state),
          command.labelId,
          command.negative,
          command.imagesWithOtherLabels ?? [],
          at,
        );
      case 'RenameLabel': {
        const project = requireActive(state);
        const label = requireLabel(project, command.labelId);
        const name = labelName(command.name);
        if (name === label.name) return [];
        assertLabelNameFree(project, name, label.id);
        return [
          {
            type: 'LabelRenamed',
            v: 1,
            data: { projectId: project.projectId, labelId: label.id, name, previousName: label.name, renamedAt: at },
          },
        ];
      }
      case 'RemoveLabel': {
        const project = requireActive(state);
        const label = requireLabel(project, command.labelId);
        return [
          {
            type: 'LabelRemoved',
            v: 1,
            data: { projectId: project.projectId, labelId: label.id, name: label.name, removedAt: at },
          },
        ];
      }
      case 'ConfigureTraining': {
        const project = requireActive(state);
        const trainingConfig = resolveTrainingConfig(project.projectType, command.trainingConfig);
        if (sameTrainingConfig(trainingConfig, project.trainingConfig)) return [];
        return [
          {
            type: 'TrainingConfigured',
            v: 1,
            data: { projectId: project.projectId, trainingConfig, configuredAt: at },
          },
        ];
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ProjectCreated':
        return {
          status: 'active',
          projectId: event.data.projectId,
          ownerId: event.data.ownerId,
          projectType: event.data.type,
          name: event.data.name,
          description: event.data.description,
          labels: [],
          trainingConfig: canonicalTrainingConfig(event.data.trainingConfig),
        };
      case 'ProjectRenamed':
        return { ...state, name: event.data.name };
      case 'ProjectDescribed':
        return { ...state, description: event.data.description };
      case 'ProjectDeleted':
        return { ...state, status: 'deleted' };
      case 'LabelAdded':
        return {
          ...state,
          labels: [...state.labels, { id: event.data.labelId, name: event.data.name, negative: false }],
        };
      case 'LabelNegativeSet':
        return {
          ...state,
          labels: state.labels.map((label) =>
            label.id === event.data.labelId ? { ...label, negative: event.data.negative } : label,
          ),
        };
      case 'ProjectTypeChanged':
        return { ...state, projectType: event.data.type };
      case 'LabelRenamed':
        return {
          ...state,
          labels: state.labels.map((label) =>
            label.id === event.data.labelId ? { ...label, name: event.data.name } : label,
          ),
        };
      case 'LabelRemoved':
        return { ...state, labels: state.labels.filter((label) => label.id !== event.data.labelId) };
      case 'TrainingConfigured':
        return { ...state, trainingConfig: canonicalTrainingConfig(event.data.trainingConfig) };
    }
  },
};

/** Label names are unique per project regardless of case (and of Unicode normal form). */
export function labelNameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

function rename(project: ActiveProject, name: string, at: string): ProjectEvent[] {
  const next = projectName(name);
  if (next === project.name) return [];
  return [
    {
      type: 'ProjectRenamed',
      v: 1,
      data: { projectId: project.projectId, name: next, previousName: project.name, renamedAt: at },
    },
  ];
}

function describe(project: ActiveProject, text: string, at: string): ProjectEvent[] {
  const next = description(text);
  if (next === project.description) return [];
  return [
    { type: 'ProjectDescribed', v: 1, data: { projectId: project.projectId, description: next, describedAt: at } },
  ];
}

function setNegative(
  project: ActiveProject,
  labelId: string,
  negative: boolean,
  imagesWithOtherLabels: readonly string[],
  at: string,
): ProjectEvent[] {
  const label = requireLabel(project, labelId);
  if (label.negative === negative) return [];
  if (negative) {
    if (project.projectType === 'detection') {
      throw DomainError.validation(
        ProjectErrors.NEGATIVE_LABEL_NOT_FOR_DETECTION,
        'Detection projects have no negative label: an image without boxes already shows none of the labels.',
        { projectType: project.projectType },
      );
    }
    const current = project.labels.find((candidate) => candidate.negative);
    if (current) {
      throw DomainError.conflict(
        ProjectErrors.NEGATIVE_LABEL_EXISTS,
        `The project's negative label is "${current.name}" already: a project has one negative label ` +
          '(make that one regular first, or use it).',
        { labelId: current.id, name: current.name },
      );
    }
    if (imagesWithOtherLabels.length) {
      throw DomainError.conflict(
        ProjectErrors.NEGATIVE_AND_REGULAR_LABEL,
        `Images carry "${label.name}" together with other labels, which a negative label cannot: ` +
          'remove the other labels from these images first.',
        { imageIds: imagesWithOtherLabels },
      );
    }
  }
  return [
    {
      type: 'LabelNegativeSet',
      v: 1,
      data: { projectId: project.projectId, labelId: label.id, name: label.name, negative, setAt: at },
    },
  ];
}

function changeType(
  project: ActiveProject,
  type: ProjectType,
  imagesWithSeveralLabels: readonly string[],
  at: string,
): ProjectEvent[] {
  if (!isProjectType(type)) throw invalid('type', `type must be one of ${PROJECT_TYPES.join(', ')}`);
  if (type === project.projectType) return [];
  if (type === 'detection' || project.projectType === 'detection') {
    throw DomainError.validation(
      ProjectErrors.PROJECT_TYPE_CHANGE_NOT_SUPPORTED,
      `A ${project.projectType} project cannot become a ${type} project: only classification and multilabel ` +
        'projects switch between each other (create a new project for detection).',
      { projectType: project.projectType, requestedType: type },
    );
  }
  if (type === 'classification' && imagesWithSeveralLabels.length) {
    throw DomainError.conflict(
      ProjectErrors.IMAGES_HAVE_SEVERAL_LABELS,
      'Images of this project carry several labels, and a classification project takes one label per image: ' +
        'leave one label on each of them first.',
      { imageIds: imagesWithSeveralLabels },
    );
  }
  return [
    {
      type: 'ProjectTypeChanged',
      v: 1,
      data: { projectId: project.projectId, type, previousType: project.projectType, changedAt: at },
    },
  ];
}

function requireActive(state: ProjectState): ActiveProject {
  if (state.status !== 'active') {
    const which = state.projectId ? `Project ${state.projectId}` : 'The project';
    throw DomainError.notFound('PROJECT_NOT_FOUND', `${which} does not exist.`);
  }
  return state as ActiveProject;
}

function requireLabel(project: ActiveProject, labelId: string): ProjectLabel {
  const label = project.labels.find((candidate) => candidate.id === labelId);
  if (!label) throw DomainError.notFound('LABEL_NOT_FOUND', `Label ${labelId} does not exist in this project.`);
  return label;
}

function assertLabelNameFree(project: ActiveProject, name: string, exceptLabelId?: string): void {
  const key = labelNameKey(name);
  const taken = project.labels.find((label) => label.id !== exceptLabelId && labelNameKey(label.name) === key);
  if (taken) {
    throw DomainError.conflict('LABEL_NAME_TAKEN', `The project already has a label named "${taken.name}".`, {
      labelId: taken.id,
      name: taken.name,
    });
  }
}

function projectName(name: string): string {
  return boundedText('name', name, 1, MAX_PROJECT_NAME_LENGTH);
}

/** The label name as it will be stored (trimmed), or 400 when it is empty, too long or holds characters that cannot be stored. */
export function labelName(name: string): string {
  return boundedText('name', name, 1, MAX_LABEL_NAME_LENGTH);
}

function description(text: string): string {
  return boundedText('description', text, 0, MAX_DESCRIPTION_LENGTH);
}

/** Trimmed text within its length limits, else 400 VALIDATION_FAILED naming the field; no control characters or lone surrogates (400 INVALID_CHARACTERS). */
function boundedText(field: string, value: string, min: number, max: number): string {
  const text = typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || text.length < min || text.length > max) {
    throw invalid(field, `${field} must be a string of ${min} to ${max} characters (after trimming spaces)`);
  }
  requirePlainText(field, text);
  return text;
}

function invalid(field: string, error: string): DomainError {
  const problems = [{ field, errors: [error] }];
  return DomainError.validation('VALIDATION_FAILED', validationMessage(problems, 1), problems);
}
