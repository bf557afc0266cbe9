import { type Decider, DomainError } from '@diyml/core/pure';
import type { ProjectType } from '@diyml/projects';
import { DatasetErrors } from './dataset-errors.js';
import { type ImageMetadata, validateMetadata } from './image-metadata.js';
import type { ImageEvent, ImageOrigin, LabelSource, Region, Split } from './image.events.js';

export const MAX_REGIONS_PER_IMAGE = 200;
/** Most whole-image labels one request names for an image (a multilabel image's set). */
export const MAX_LABELS_PER_IMAGE = 500;
/** Rounding slack for boxes computed from pixels, e.g. x + width = 0.30000000000000004. */
const EPSILON = 1e-9;

/** What the decider needs to know about the project, read from the project read model by the handler. */
export interface ProjectContext {
  readonly id: string;
  readonly type: ProjectType;
  readonly labelIds: readonly string[];
  /** The project's negative label, which an image carries alone (absent: none). */
  readonly negativeLabelId?: string | null;
}

export type ImageCommand =
  | {
      type: 'UploadImage';
      project: ProjectContext;
      imageId: string;
      filename: string;
      sha256: string;
      width: number;
      height: number;
      format: string;
      bytes: number;
      dhash: string;
      labelId: string | null;
      /** Several whole-image labels: a multilabel project's set; a classification project takes at most one. */
      labelIds?: readonly string[];
      /** Detection imports bring boxes with the image: recorded as ImageRegionsSet in the same append. */
      regions?: Region[];
      split: Split;
      /** A frame of a video: which, and where in it. */
      source?: ImageOrigin;
    }
  /** One whole-image label or none (null); on a multilabel project it becomes the image's whole set. */
  | { type: 'LabelImage'; project: ProjectContext; labelId: string | null; source?: LabelSource }
  /** The image's whole-image labels: any number on a multilabel project, at most one on a classification project. */
  | { type: 'SetImageLabels'; project: ProjectContext; labelIds: readonly string[]; source?: LabelSource }
  | { type: 'SetImageRegions'; project: ProjectContext; regions: Region[]; source?: LabelSource }
  | { type: 'ExcludeImage'; project: ProjectContext }
  | { type: 'IncludeImage'; project: ProjectContext }
  | { type: 'AssignSplit'; project: ProjectContext; split: Split }
  /** Replaces the image's metadata with `metadata`. */
  | { type: 'SetImageMetadata'; project: ProjectContext; metadata: ImageMetadata }
  | { type: 'RemoveImage'; project: ProjectContext };

export interface ImageState {
  status: 'none' | 'active' | 'removed';
  projectId: string | null;
  imageId: string | null;
  sha256: string | null;
  labelId: string | null;
  /** A multilabel project's labels of the image. */
  labelSet: string[];
  regions: Region[];
  included: boolean;
  split: Split;
  metadata: ImageMetadata;
}

const initialState: ImageState = {
  status: 'none',
  projectId: null,
  imageId: null,
  sha256: null,
  labelId: null,
  labelSet: [],
  regions: [],
  included: true,
  split: 'train',
  metadata: {},
};

export const imageDecider: Decider<ImageState, ImageCommand, ImageEvent> = {
  initialState,

  decide(command, state) {
    if (command.type === 'UploadImage') return upload(command, state);
    const { projectId, imageId } = requireImage(state, command.project.id);
    switch (command.type) {
      case 'LabelImage':
        return setLabels(
          command.project,
          command.labelId === null ? [] : [command.labelId],
          command.source,
          state,
          imageId,
        );
      case 'SetImageLabels':
        return setLabels(command.project, command.labelIds, command.source, state, imageId);
      case 'SetImageRegions': {
        requireType(command.project, 'detection', 'Regions (boxes)');
        const regions = validateRegions(command.project, command.regions);
        if (command.source)
          requireUnlabeled(state.regions.some((region) => inProject(command.project, region.labelId)));
        if (sameRegions(regions, state.regions)) return [];
        return [
          { type: 'ImageRegionsSet', v: 2, data: { projectId, imageId, regions, source: command.source ?? null } },
        ];
      }
      case 'ExcludeImage':
        return state.included ? [{ type: 'ImageExcludedFromTraining', v: 1, data: { projectId, imageId } }] : [];
      case 'IncludeImage':
        return state.included ? [] : [{ type: 'ImageIncludedInTraining', v: 1, data: { projectId, imageId } }];
      case 'AssignSplit':
        if (command.split === state.split) return [];
        return [{ type: 'ImageSplitAssigned', v: 1, data: { projectId, imageId, split: command.split } }];
      case 'SetImageMetadata': {
        const metadata = validateMetadata(command.metadata);
        if (JSON.stringify(metadata) === JSON.stringify(state.metadata)) return [];
        return [{ type: 'ImageMetadataSet', v: 1, data: { projectId, imageId, metadata } }];
      }
      case 'RemoveImage':
        return [{ type: 'ImageRemoved', v: 1, data: { projectId, imageId, sha256: state.sha256 ?? '' } }];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ImageUploaded':
        return {
          ...state,
          status: 'active',
          projectId: event.data.projectId,
          imageId: event.data.imageId,
          sha256: event.data.sha256,
          labelId: event.data.labelId,
          split: event.data.split,
        };
      // The latest whole-image labels replace the earlier ones, of either kind (the project may have changed type).
      case 'ImageLabeled':
        return { ...state, labelId: event.data.labelId, labelSet: [] };
      case 'ImageLabelsSet':
        return { ...state, labelId: null, labelSet: event.data.labelIds };
      case 'ImageRegionsSet':
        return { ...state, regions: event.data.regions };
      case 'ImageExcludedFromTraining':
        return { ...state, included: false };
      case 'ImageIncludedInTraining':
        return { ...state, included: true };
      case 'ImageSplitAssigned':
        return { ...state, split: event.data.split };
      case 'ImageMetadataSet':
        return { ...state, metadata: event.data.metadata };
      case 'ImageRemoved':
        return { ...state, status: 'removed' };
    }
  },
};

function upload(command: Extract<ImageCommand, { type: 'UploadImage' }>, state: ImageState): ImageEvent[] {
  if (state.status !== 'none') {
    throw DomainError.conflict(DatasetErrors.IMAGE_ALREADY_EXISTS, `Image ${command.imageId} already exists.`);
  }
  const { project } = command;
  const wholeImageLabels = validateWholeImageLabels(
    project,
    command.labelIds ?? (command.labelId === null ? [] : [command.labelId]),
  );
  const labelId = project.type === 'classification' ? (wholeImageLabels[0] ?? null) : null;
  const regions = command.regions?.length ? validateRegions(project, command.regions) : [];
  if (regions.length) requireType(project, 'detection', 'Regions (boxes)');
  const { imageId, filename, sha256, width, height, format, bytes, dhash, split } = command;
  const events: ImageEvent[] = [
    {
      type: 'ImageUploaded',
      v: 2,
      data: {
        projectId: project.id,
        imageId,
        filename,
        sha256,
        width,
        height,
        format,
        bytes,
        dhash,
        labelId,
        split,
        source: command.source ?? null,
      },
    },
  ];
  if (regions.length)
    events.push({ type: 'ImageRegionsSet', v: 2, data: { projectId: project.id, imageId, regions, source: null } });
  if (project.type === 'multilabel' && wholeImageLabels.length)
    events.push({
      type: 'ImageLabelsSet',
      v: 1,
      data: { projectId: project.id, imageId, labelIds: wholeImageLabels, source: null },
    });
  return events;
}

/**
 * Whole-image labels, each once and of the project: a multilabel project takes any number, a classification
 * project at most one (400 TOO_MANY_LABELS), a detection project none (400 WRONG_PROJECT_TYPE).
 */
function validateWholeImageLabels(project: ProjectContext, labelIds: readonly string[]): string[] {
  const unique = [...new Set(labelIds)];
  if (unique.length === 0) return unique;
  if (project.type === 'detection') requireType(project, 'classification', 'A label on the whole image');
  if (project.type === 'classification' && unique.length > 1) throw tooManyLabels(unique.length);
  for (const labelId of unique) requireLabel(project, labelId);
  if (unique.length > 1 && project.negativeLabelId && unique.includes(project.negativeLabelId)) {
    throw DomainError.validation(
      DatasetErrors.NEGATIVE_AND_REGULAR_LABEL,
      "The project's negative label means the image shows none of the other labels: give the image either the " +
        'negative label alone or other labels.',
      { negativeLabelId: project.negativeLabelId, labels: unique },
    );
  }
  return unique;
}

/** 400 TOO_MANY_LABELS: several labels for one image of a classification project. */
export function tooManyLabels(count: number): DomainError {
  return DomainError.validation(
    DatasetErrors.TOO_MANY_LABELS,
    `A classification project takes one label per image, not ${count}: send one label, or create a ` +
      'multilabel project (type "multilabel") to give images several labels.',
    { projectType: 'classification', labels: count },
  );
}

function setLabels(
  project: ProjectContext,
  labelIds: readonly string[],
  source: LabelSource | undefined,
  state: ImageState,
  imageId: string,
): ImageEvent[] {
  // Even clearing: a detection image has no whole-image label to clear.
  if (project.type === 'detection') requireType(project, 'classification', 'A label on the whole image');
  const wanted = validateWholeImageLabels(project, labelIds);
  const projectId = project.id;
  const current = currentLabels(project, state);
  if (source) requireUnlabeled(current.length > 0);
  if (project.type === 'multilabel') {
    if (sameSet(wanted, current)) return [];
    return [{ type: 'ImageLabelsSet', v: 1, data: { projectId, imageId, labelIds: wanted, source: source ?? null } }];
  }
  if (sameSet(wanted, current)) return [];
  const labelId = wanted[0] ?? null;
  return [{ type: 'ImageLabeled', v: 2, data: { projectId, imageId, labelId, source: source ?? null } }];
}

/**
 * The image's whole-image labels still in the project, whichever event gave them: ImageLabeled (classification) or
 * ImageLabelsSet (multilabel); a project that changed type has images labeled either way. A removed label is gone
 * from the image, as the images list shows it.
 */
function currentLabels(project: ProjectContext, state: ImageState): string[] {
  const labels = state.labelId !== null ? [state.labelId] : state.labelSet;
  return labels.filter((labelId) => inProject(project, labelId));
}

function inProject(project: ProjectContext, labelId: string): boolean {
  return project.labelIds.includes(labelId);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((labelId) => b.includes(labelId));
}

function requireImage(state: ImageState, projectId: string): { projectId: string; imageId: string } {
  // An image of another project is as unknown as a missing one.
  if (state.status !== 'active' || state.projectId !== projectId || state.imageId === null) {
    throw DomainError.notFound(DatasetErrors.IMAGE_NOT_FOUND, 'The image does not exist in this project.');
  }
  return { projectId, imageId: state.imageId };
}

/** A suggestion labels an unlabeled image: one labeled meanwhile keeps the label it was given. */
function requireUnlabeled(labeled: boolean): void {
  if (labeled) {
    throw DomainError.conflict(
      DatasetErrors.IMAGE_ALREADY_LABELED,
      'The image was labeled since the suggestion was made: its label stays.',
    );
  }
}

function requireType(project: ProjectContext, type: ProjectType, what: string): void {
  if (project.type !== type) {
    const hint =
      project.type === 'detection'
        ? 'detection projects label images with regions: PUT .../regions'
        : `${project.type} projects label whole images: PUT .../label`;
    throw DomainError.validation(
      DatasetErrors.WRONG_PROJECT_TYPE,
      `${what} belongs to ${type} projects; this is a ${project.type} project (${hint}).`,
      { projectType: project.type },
    );
  }
}

function requireLabel(project: ProjectContext, labelId: string): void {
  if (!project.labelIds.includes(labelId)) {
    throw DomainError.validation(DatasetErrors.UNKNOWN_LABEL, `Label ${labelId} is not a label of this project.`, {
      label: labelId,
    });
  }
}

/** Smallest box width or height, as a fraction of the image: smaller is a rounding error, not a box. */
export const MIN_REGION_SIZE = 1e-6;

/** Boxes must be inside the image, have at least the minimum size and use a label of the project. */
export function validateRegions(project: ProjectContext, regions: readonly Region[]): Region[] {
  if (regions.length > MAX_REGIONS_PER_IMAGE) {
    throw DomainError.validation(
      DatasetErrors.TOO_MANY_REGIONS,
      `An image can have at most ${MAX_REGIONS_PER_IMAGE} regions, not ${regions.length}.`,
    );
  }
  return regions.map((region, index) => {
    const { labelId, x, y, width, height } = region;
    requireLabel(project, labelId);
    if (![x, y, width, height].every(Number.isFinite) || width <= 0 || height <= 0) {
      throw DomainError.validation(
        DatasetErrors.REGION_EMPTY,
        `Region ${index} must have a positive width and height.`,
        { index, region },
      );
    }
    if (width < MIN_REGION_SIZE || height < MIN_REGION_SIZE) {
      throw DomainError.validation(
        DatasetErrors.REGION_TOO_SMALL,
        `Region ${index} is narrower or lower than ${MIN_REGION_SIZE} of the image: draw a box at least that large.`,
        { index, region, minSize: MIN_REGION_SIZE },
      );
    }
    if (x < 0 || y < 0 || x + width > 1 + EPSILON || y + height > 1 + EPSILON) {
      throw DomainError.validation(
        DatasetErrors.REGION_OUT_OF_BOUNDS,
        `Region ${index} is not inside the image: x, y, width and height are fractions of the image, ` +
          'so x >= 0, y >= 0, x + width <= 1 and y + height <= 1.',
        { index, region },
      );
    }
    return {
      labelId,
      x,
      y,
      width: Math.min(width, 1 - x),
      height: Math.min(height, 1 - y),
    };
  });
}

function sameRegions(a: readonly Region[], b: readonly Region[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
