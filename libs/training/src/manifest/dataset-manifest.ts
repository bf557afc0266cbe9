import type { Task } from '../domain/iteration.events.js';

export type Split = 'train' | 'validation' | 'test';

export interface ManifestRegion {
  labelId: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ManifestImage {
  id: string;
  sha256: string;
  filename: string;
  width: number;
  height: number;
  split: Split;
  labelId: string | null;
  regions: ManifestRegion[];
  /** Multilabel projects only (absent otherwise, so other manifests keep their bytes and hash): the image's labels. */
  labelIds?: string[];
  /**
   * The image carries the project's negative label (absent otherwise): it shows none of the labels. A multilabel
   * model learns it with every label absent (an all-zeros target); a classification model learns the negative
   * label as one of its classes (it is among the manifest's labels), so its softmax head can say "none of these".
   */
  negative?: true;
}

/**
 * The dataset an iteration trains on, frozen when it is queued and stored as a blob: the iteration event
 * holds its sha256, so the exact data of any run can be read back and reused.
 */
export interface DatasetManifest {
  v: 1;
  projectId: string;
  task: Task;
  labels: { id: string; name: string }[];
  images: ManifestImage[];
}

/**
 * Canonical bytes: the same dataset always gives the same manifest hash. Images are ordered by content hash
 * (unique within a project), so training sees the same pictures in the same order wherever they were uploaded
 * and whatever ids they got: same images, configuration and seed, same model.
 */
export function serializeManifest(manifest: DatasetManifest): Uint8Array {
  const images = [...manifest.images].sort((a, b) => a.sha256.localeCompare(b.sha256) || a.id.localeCompare(b.id));
  return new TextEncoder().encode(JSON.stringify({ ...manifest, images }));
}

export function parseManifest(bytes: Uint8Array): DatasetManifest {
  const manifest = JSON.parse(new TextDecoder().decode(bytes)) as DatasetManifest;
  if (manifest.v !== 1) throw new Error(`unsupported manifest version ${String(manifest.v)}`);
  return manifest;
}
