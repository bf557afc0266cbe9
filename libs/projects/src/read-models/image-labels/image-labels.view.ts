import type { ReadStore } from '@diyml/read-store';

/**
 * The whole-image labels of each image, as the datasets context's images projection writes them (collection
 * `images`); only read here, for the rules a project decision needs about its images (a negative label alone on
 * an image, one label per image of a classification project).
 */
export interface ImageLabelsView {
  id: string;
  projectId: string;
  /** A classification image's label. */
  labelId: string | null;
  /** A multilabel image's labels. */
  labelSet: string[];
  /** Every label the image uses (what a label filter looks in). */
  labelIds: string[];
  labeled: boolean;
}

export const IMAGES = 'images';

/** How many image ids an error names (the count says how many there are). */
const NAMED_IMAGES = 20;

function wholeImageLabels(image: ImageLabelsView): Set<string> {
  return new Set([...(image.labelId ? [image.labelId] : []), ...(image.labelSet ?? [])]);
}

/** Images of the project carrying `labelId` and another label (the first few ids). */
export async function imagesWithOtherLabels(store: ReadStore, projectId: string, labelId: string): Promise<string[]> {
  const images = await store.collection<ImageLabelsView>(IMAGES).findAll({ projectId, labelIds: labelId });
  return images
    .filter((image) => wholeImageLabels(image).size > 1)
    .map((image) => image.id)
    .slice(0, NAMED_IMAGES);
}

/** Images of the project carrying more than one whole-image label (the first few ids). */
export async function imagesWithSeveralLabels(store: ReadStore, projectId: string): Promise<string[]> {
  const images = await store.collection<ImageLabelsView>(IMAGES).findAll({ projectId, labeled: true });
  return images
    .filter((image) => wholeImageLabels(image).size > 1)
    .map((image) => image.id)
    .slice(0, NAMED_IMAGES);
}
