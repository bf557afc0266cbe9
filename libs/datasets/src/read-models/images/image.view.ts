import type { ImageOrigin, Region, Split } from '../../domain/image.events.js';

export const IMAGES = 'images';
export const LABEL_STATS = 'label-stats';
/** Labels removed from their project (collection `removed-labels`): an image event recorded later drops them. */
export const REMOVED_LABELS = 'removed-labels';

/** Read-model document of one image (collection `images`); removed images have no document. */
export interface ImageView {
  id: string;
  projectId: string;
  filename: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
  sha256: string;
  /** Difference hash of the picture, for near-duplicate detection. */
  dhash: string;
  /** Classification label; null when unlabeled or when its label was removed from the project. */
  labelId: string | null;
  /** Multilabel labels of the image (none: untagged); labels removed from the project are dropped. */
  labelSet: string[];
  /** Detection boxes (fractions of the image); boxes of a removed label are dropped. */
  regions: Region[];
  /** Has a label, a multilabel label or at least one box. */
  labeled: boolean;
  /** Every label the image uses (its label and its boxes' labels), sorted: what a label filter looks in. */
  labelIds: string[];
  split: Split;
  /** Key/value metadata. */
  metadata: Record<string, string>;
  /** `key=value` of each metadata entry: what a metadata filter looks in. */
  metadataEntries: string[];
  /** Whether training uses the image. */
  included: boolean;
  uploadedAt: string;
  /** A frame of a video: which, and where in it (absent for an uploaded file). */
  source?: ImageOrigin;
  /** Log position of the upload: the order images are listed in. */
  seq: number;
  /** Revision of the image's stream, exposed as ETag. */
  revision: number;
}

/** How many images use a label, as the whole-image label or in any box (collection `label-stats`). */
export interface LabelStatsView {
  /** The label id. */
  id: string;
  projectId: string;
  imageCount: number;
}

/** A label removed from its project (the id is the label id). */
export interface RemovedLabelView {
  id: string;
  projectId: string;
}

/** Labels an image uses: its label, its multilabel labels and the labels of its boxes. */
export function labelsUsedBy(
  image: Pick<ImageView, 'labelId' | 'labelSet' | 'regions'> | null | undefined,
): Set<string> {
  const used = new Set<string>();
  if (!image) return used;
  if (image.labelId) used.add(image.labelId);
  for (const labelId of image.labelSet) used.add(labelId);
  for (const region of image.regions) used.add(region.labelId);
  return used;
}
