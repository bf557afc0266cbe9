import { isDeepStrictEqual } from 'node:util';
import type { DatasetManifest, ManifestImage } from './dataset-manifest.js';

/** Label names; null when unlabeled. */
export interface ImageLabeling {
  label: string | null;
  /** A multilabel image's labels (empty otherwise). */
  labels: string[];
  /** It carries the project's negative label. */
  negative: boolean;
  regions: number;
  split: string;
}

export interface ImageChange {
  imageId: string;
  filename: string;
  before: ImageLabeling;
  after: ImageLabeling;
}

export interface ManifestDiff {
  added: { imageId: string; filename: string }[];
  removed: { imageId: string; filename: string }[];
  /** Images whose label or boxes changed. */
  relabeled: ImageChange[];
  /** Images that moved between train, validation and test (and kept their labels). */
  resplit: ImageChange[];
  unchanged: number;
  labels: { added: string[]; removed: string[] };
}

function labeling(image: ManifestImage, manifest: DatasetManifest) {
  const names = new Map(manifest.labels.map((label) => [label.id, label.name]));
  const nameOf = (labelId: string) => names.get(labelId) ?? labelId;
  return {
    label: image.labelId ? nameOf(image.labelId) : null,
    labels: (image.labelIds ?? []).map(nameOf).sort(),
    negative: image.negative === true,
    regions: image.regions.map((region) => ({ ...region, labelId: nameOf(region.labelId) })),
  };
}

/** What changed in the training data from one iteration's manifest to another's. */
export function diffManifests(from: DatasetManifest, to: DatasetManifest): ManifestDiff {
  const before = new Map(from.images.map((image) => [image.id, image]));
  const after = new Map(to.images.map((image) => [image.id, image]));
  const diff: ManifestDiff = {
    added: [],
    removed: [],
    relabeled: [],
    resplit: [],
    unchanged: 0,
    labels: { added: [], removed: [] },
  };
  for (const image of to.images) {
    const old = before.get(image.id);
    if (!old) {
      diff.added.push({ imageId: image.id, filename: image.filename });
      continue;
    }
    const oldLabeling = labeling(old, from);
    const newLabeling = labeling(image, to);
    const change: ImageChange = {
      imageId: image.id,
      filename: image.filename,
      before: { ...oldLabeling, regions: old.regions.length, split: old.split },
      after: { ...newLabeling, regions: image.regions.length, split: image.split },
    };
    if (!isDeepStrictEqual(oldLabeling, newLabeling)) diff.relabeled.push(change);
    else if (old.split !== image.split) diff.resplit.push(change);
    else diff.unchanged += 1;
  }
  for (const image of from.images) {
    if (!after.has(image.id)) diff.removed.push({ imageId: image.id, filename: image.filename });
  }
  const fromNames = new Set(from.labels.map((label) => label.name));
  const toNames = new Set(to.labels.map((label) => label.name));
  diff.labels.added = [...toNames].filter((name) => !fromNames.has(name));
  diff.labels.removed = [...fromNames].filter((name) => !toNames.has(name));
  return diff;
}
