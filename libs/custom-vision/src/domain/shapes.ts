import { createHash } from 'node:crypto';
import type { ImageView } from '@diyml/datasets';
import type { LabelView, ProjectView } from '@diyml/projects';
import type { IterationView } from '@diyml/training';
import { type ClassificationType, classificationTypeOf, DEFAULT_DOMAIN, EXPORT_PLATFORM_NAMES } from './domains.js';

// Custom Vision's JSON shapes (camelCase, as the SDKs' mappers read them) built from our read models.

export interface CvProject {
  id: string;
  name: string;
  description: string;
  settings: {
    domainId: string;
    classificationType: ClassificationType | null;
    targetExportPlatforms: string[];
    useNegativeSet: boolean;
    detectionParameters: string | null;
    imageProcessingSettings: { augmentationMethods: Record<string, boolean> } | null;
  };
  created: string;
  lastModified: string;
  thumbnailUri: string | null;
  drModeEnabled: boolean;
  status: 'Succeeded';
}

export interface CvTag {
  id: string;
  name: string;
  description: string;
  type: 'Regular' | 'Negative';
  imageCount: number;
}

export interface CvRegion {
  regionId: string;
  tagName: string;
  created: string;
  tagId: string;
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface CvImage {
  id: string;
  created: string;
  width: number;
  height: number;
  resizedImageUri: string;
  thumbnailUri: string;
  originalImageUri: string;
  tags: { tagId: string; tagName: string; created: string }[] | null;
  regions: CvRegion[] | null;
  metadata: Record<string, string> | null;
}

export interface CvIteration {
  id: string;
  name: string;
  status: 'Training' | 'Completed' | 'Failed';
  created: string;
  lastModified: string;
  trainedAt: string | null;
  projectId: string;
  exportable: boolean;
  exportableTo: string[];
  domainId: string;
  classificationType: ClassificationType | null;
  trainingType: 'Regular';
  reservedBudgetInHours: number;
  trainingTimeInMinutes: number;
  publishName: string | null;
  originalPublishResourceId: string | null;
  trainingErrorDetails: string | null;
}

export interface CvPrediction {
  probability: number;
  tagId: string;
  tagName: string;
  boundingBox?: { left: number; top: number; width: number; height: number };
  tagType: 'Regular' | 'Negative';
}

export interface CvImagePrediction {
  id: string;
  project: string;
  iteration: string;
  created: string;
  predictions: CvPrediction[];
}

export function toCvProject(project: ProjectView): CvProject {
  return {
    id: project.id,
    name: project.name,
    description: project.description,
    settings: {
      domainId: DEFAULT_DOMAIN[project.type].id,
      classificationType: classificationTypeOf(project.type),
      targetExportPlatforms: EXPORT_PLATFORM_NAMES,
      useNegativeSet: false,
      detectionParameters: null,
      imageProcessingSettings: null,
    },
    created: project.createdAt,
    lastModified: project.updatedAt,
    thumbnailUri: null,
    drModeEnabled: false,
    status: 'Succeeded',
  };
}

/** A tag: the project's negative label is Azure's Negative tag. */
export function toCvTag(label: LabelView & { negative?: boolean }, imageCount: number): CvTag {
  const type = label.negative ? 'Negative' : 'Regular';
  return { id: label.id, name: label.name, description: '', type, imageCount };
}

/**
 * Our regions have no ids: a region's id is derived from its image, position in the list and box, so the
 * same region keeps its id as long as it is not changed.
 */
export function regionIdOf(
  imageId: string,
  index: number,
  box: { x: number; y: number; width: number; height: number },
): string {
  const hex = createHash('sha256')
    .update(`${imageId}/${index}/${box.x}/${box.y}/${box.width}/${box.height}`)
    .digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `baseUrl` is where this server is reached (image URIs point at the native content endpoint). */
export function toCvImage(image: ImageView, project: ProjectView, baseUrl: string): CvImage {
  const byId = new Map(project.labels.map((label) => [label.id, label]));
  const uri = `${baseUrl}/v1/projects/${project.id}/images/${image.id}/content`;
  const labels = [...(image.labelId ? [image.labelId] : []), ...image.labelSet].flatMap(
    (labelId) => byId.get(labelId) ?? [],
  );
  const regions = image.regions.flatMap((region, index): CvRegion[] => {
    const tag = byId.get(region.labelId);
    if (!tag) return [];
    return [
      {
        regionId: regionIdOf(image.id, index, region),
        tagName: tag.name,
        created: image.uploadedAt,
        tagId: tag.id,
        left: region.x,
        top: region.y,
        width: region.width,
        height: region.height,
      },
    ];
  });
  const tags = labels.length
    ? labels.map((label) => ({ tagId: label.id, tagName: label.name, created: image.uploadedAt }))
    : [
        ...new Map(
          regions.map((region) => [
            region.tagId,
            { tagId: region.tagId, tagName: region.tagName, created: image.uploadedAt },
          ]),
        ).values(),
      ];
  return {
    id: image.id,
    created: image.uploadedAt,
    width: image.width,
    height: image.height,
    resizedImageUri: uri,
    thumbnailUri: uri,
    originalImageUri: uri,
    tags: tags.length ? tags : null,
    regions: regions.length ? regions : null,
    metadata: Object.keys(image.metadata).length ? image.metadata : null,
  };
}

const STATUS: Record<IterationView['status'], CvIteration['status']> = {
  queued: 'Training',
  running: 'Training',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Failed',
};

export function toCvIteration(iteration: IterationView, project: ProjectView, publishName: string | null): CvIteration {
  const lastModified = iteration.completedAt ?? iteration.startedAt ?? iteration.queuedAt;
  return {
    id: iteration.id,
    name: iteration.name,
    status: STATUS[iteration.status],
    created: iteration.queuedAt,
    lastModified,
    trainedAt: iteration.status === 'completed' ? iteration.completedAt : null,
    projectId: iteration.projectId,
    exportable: iteration.status === 'completed',
    exportableTo: EXPORT_PLATFORM_NAMES,
    domainId: DEFAULT_DOMAIN[project.type].id,
    classificationType: classificationTypeOf(project.type),
    trainingType: 'Regular',
    reservedBudgetInHours: 0,
    trainingTimeInMinutes: Math.ceil((iteration.durationMs ?? 0) / 60_000),
    publishName,
    originalPublishResourceId: null,
    trainingErrorDetails:
      iteration.status === 'cancelled'
        ? 'The iteration was cancelled.'
        : iteration.error
          ? `${iteration.error.code}: ${iteration.error.reason}`
          : null,
  };
}
