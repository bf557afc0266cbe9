import type { DomainEvent } from '@diyml/core/pure';

/** One stream per image. */
export const imageStream = (imageId: string) => `image-${imageId}`;
export const IMAGE_STREAM_PREFIX = 'image-';
/**
 * One stream per (project, content): creating it with no_stream is what makes duplicate detection exact
 * under concurrency. Removing the image releases the claim; a new upload reclaims it at the revision it read.
 */
export const imageContentStream = (projectId: string, sha256: string) => `image-content-${projectId}-${sha256}`;

export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** A labeled box; coordinates are fractions (0..1) of the upright image, origin top-left. */
export interface Region {
  labelId: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where an image came from, when not from a file upload: a frame of an uploaded video. */
export interface ImageOrigin {
  kind: 'video';
  videoId: string;
  /** Where in the video the frame is, from its start. */
  timestampMs: number;
}

// Every event carries projectId, so a project's history can be indexed from event data alone.
// Events hold the sha256 of the bytes, never the bytes: the BlobStore holds those.

export type ImageUploaded = DomainEvent<
  'ImageUploaded',
  {
    projectId: string;
    imageId: string;
    filename: string;
    sha256: string;
    width: number;
    height: number;
    format: string;
    bytes: number;
    /** 64-bit difference hash (16 hex digits) of the picture, to find near-duplicates. */
    dhash: string;
    labelId: string | null;
    split: Split;
    /** v2: null for an uploaded file (every v1 event, see image.upcasters.ts). */
    source: ImageOrigin | null;
  }
>;
/** Where a label or boxes came from when not drawn by hand: a suggestion of an iteration, accepted (maybe edited). */
export interface LabelSource {
  kind: 'suggestion';
  iterationId: string;
  /** Whether the person changed the suggested label or boxes before accepting them. */
  edited: boolean;
}

/** v2 added `source` (v1 events read as `source: null`). */
export type ImageLabeled = DomainEvent<
  'ImageLabeled',
  { projectId: string; imageId: string; labelId: string | null; source: LabelSource | null }
>;
/** The whole label set of an image of a multilabel project after the change ([] untags it). */
export type ImageLabelsSet = DomainEvent<
  'ImageLabelsSet',
  { projectId: string; imageId: string; labelIds: string[]; source: LabelSource | null }
>;
/** v2 added `source` (v1 events read as `source: null`). */
export type ImageRegionsSet = DomainEvent<
  'ImageRegionsSet',
  { projectId: string; imageId: string; regions: Region[]; source: LabelSource | null }
>;
export type ImageExcludedFromTraining = DomainEvent<
  'ImageExcludedFromTraining',
  { projectId: string; imageId: string }
>;
export type ImageIncludedInTraining = DomainEvent<'ImageIncludedInTraining', { projectId: string; imageId: string }>;
export type ImageSplitAssigned = DomainEvent<
  'ImageSplitAssigned',
  { projectId: string; imageId: string; split: Split }
>;
/** The image's whole metadata after the change. */
export type ImageMetadataSet = DomainEvent<
  'ImageMetadataSet',
  { projectId: string; imageId: string; metadata: Record<string, string> }
>;
export type ImageRemoved = DomainEvent<'ImageRemoved', { projectId: string; imageId: string; sha256: string }>;

export type ImageEvent =
  | ImageUploaded
  | ImageLabeled
  | ImageLabelsSet
  | ImageRegionsSet
  | ImageExcludedFromTraining
  | ImageIncludedInTraining
  | ImageSplitAssigned
  | ImageMetadataSet
  | ImageRemoved;

export const IMAGE_EVENT_TYPES = [
  'ImageUploaded',
  'ImageLabeled',
  'ImageLabelsSet',
  'ImageRegionsSet',
  'ImageExcludedFromTraining',
  'ImageIncludedInTraining',
  'ImageSplitAssigned',
  'ImageMetadataSet',
  'ImageRemoved',
] as const satisfies readonly ImageEvent['type'][];

/** Events of the image-content claim streams. */
/**
 * v2 names the process whose upload holds the claim (`processId`, its lease name: see ImageIntake), so another
 * process can tell an upload in flight from one its dead process left; null for v1 claims (unknown).
 */
export type ImageContentClaimed = DomainEvent<
  'ImageContentClaimed',
  { projectId: string; sha256: string; imageId: string; processId: string | null }
>;
export type ImageContentReleased = DomainEvent<
  'ImageContentReleased',
  { projectId: string; sha256: string; imageId: string }
>;
export type ImageContentEvent = ImageContentClaimed | ImageContentReleased;

/**
 * Written to the stream of an image whose upload claimed its content and never recorded it, by the process that takes
 * the claim over or releases it (the uploading process died, or stalled past its lease). The stream then exists, so
 * that upload, should its process resume, cannot record the image any more (its append expects no stream): it finds
 * out it lost the claim instead of recording a second image of the same content.
 */
export type ImageUploadAbandoned = DomainEvent<
  'ImageUploadAbandoned',
  { projectId: string; sha256: string; imageId: string }
>;
