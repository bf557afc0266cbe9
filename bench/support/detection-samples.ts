import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Box } from '@diyml/ml';

/** Custom Vision's quickstart detection photos: fork and scissors (../shared/datasets/custom-vision-samples, MIT). */
export const DETECTION_SAMPLES = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'shared',
  'datasets',
  'custom-vision-samples',
  'detection',
);

interface Coco {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { image_id: number; category_id: number; bbox: [number, number, number, number] }[];
  categories: { id: number; name: string }[];
}

export interface SamplePhoto {
  name: string;
  /** The number in the file name (1–20): 1–15 train in the benchmarks, 16–20 are held out. */
  number: number;
  bytes: Uint8Array;
  /** Its boxes in fractions of the image, `label` an index into the labels. */
  boxes: (Box & { label: number })[];
}

/** The labels (COCO category names) and every photo of the set with its boxes, read from its COCO annotations. */
export function detectionSamples(): { labels: string[]; photos: SamplePhoto[] } {
  const coco = JSON.parse(readFileSync(join(DETECTION_SAMPLES, 'annotations.coco.json'), 'utf8')) as Coco;
  const labels = coco.categories.map((category) => category.name);
  const photos = coco.images.map((image) => ({
    name: image.file_name,
    number: Number(/(\d+)\.\w+$/.exec(image.file_name)?.[1] ?? 0),
    bytes: new Uint8Array(readFileSync(join(DETECTION_SAMPLES, 'images', image.file_name))),
    boxes: coco.annotations
      .filter((annotation) => annotation.image_id === image.id)
      .map(({ category_id, bbox: [x, y, width, height] }) => ({
        label: coco.categories.findIndex((category) => category.id === category_id),
        x: x / image.width,
        y: y / image.height,
        width: width / image.width,
        height: height / image.height,
      })),
  }));
  return { labels, photos };
}
