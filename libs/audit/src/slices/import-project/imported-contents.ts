import { DatasetQueries, type ImageView } from '@diyml/datasets';
import type { LabelView } from '@diyml/projects';

/** What an imported project holds, as its lists show it once the import is done. */
export interface ImportedContents {
  images: number;
  /** Images with a whole-image label or at least one region. */
  labeledImages: number;
  labels: number;
  /** Whole-image labels given to images: a classified image's label, each of a multilabel image's labels. */
  imageLabels: number;
  /** Boxes on images (detection). */
  regions: number;
  iterations: number;
  deployments: number;
}

/**
 * Counted from the read models the import filled rather than from the archived events, so the answer agrees with
 * what the image, label and iteration lists show: an image's label removed from the project does not count (the
 * image view may still name it; the image list resolves labels against the project's), deleted iterations neither.
 */
export function countImportedContents(
  images: readonly ImageView[],
  project: { labels: readonly LabelView[]; iterations: number; deployments: number },
): ImportedContents {
  let labeledImages = 0;
  let imageLabels = 0;
  let regions = 0;
  for (const image of images) {
    // Resolved as the image list resolves them, so both leave out the same labels.
    const { labels, regions: boxes } = DatasetQueries.withLabels(image, project.labels);
    imageLabels += labels.length;
    regions += boxes.length;
    if (labels.length > 0 || boxes.length > 0) labeledImages += 1;
  }
  return {
    images: images.length,
    labeledImages,
    labels: project.labels.length,
    imageLabels,
    regions,
    iterations: project.iterations,
    deployments: project.deployments,
  };
}
