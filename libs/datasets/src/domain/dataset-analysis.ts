import type { LabelView, ProjectType } from '@diyml/projects';
import type { ImageView } from '../read-models/images/image.view.js';

/** The readiness rules, in one place. */
export const READINESS_RULES = {
  /** Classification and multilabel: labels needed to train at all. */
  minLabelsClassification: 2,
  /** Detection: labels needed to train at all. */
  minLabelsDetection: 1,
  /** Classification and multilabel: included, labeled train images each label needs. */
  minImagesPerLabel: 5,
  /** Detection: boxes in included train images each label needs. */
  minBoxesPerLabel: 15,
  /** Warn when the most frequent label has more than this many times the examples of the rarest. */
  imbalanceRatio: 3,
} as const;

export interface DatasetIssue {
  code: string;
  message: string;
  label?: LabelView;
  count?: number;
  required?: number;
}

export interface LabelCount {
  label: LabelView;
  /** Images using the label (whole-image label or any box). */
  count: number;
  /** Included train images using it: what the readiness rules count for classification. */
  trainCount: number;
  /** Detection: boxes with this label, and those in included train images. */
  boxes?: number;
  trainBoxes?: number;
}

export interface SizeStats {
  min: number;
  median: number;
  max: number;
}

export interface DatasetAnalysis {
  imageCount: number;
  labeledCount: number;
  unlabeledCount: number;
  excludedCount: number;
  splits: { train: number; validation: number; test: number };
  perLabel: LabelCount[];
  imageSizes: {
    width: SizeStats | null;
    height: SizeStats | null;
    /** Images by their longer side: `upTo` pixels (null: larger than the last bucket). */
    histogram: { upTo: number | null; count: number }[];
  };
  formats: Record<string, number>;
  duplicates: { count: number; groups: { images: { id: string; filename: string }[] }[] };
  warnings: DatasetIssue[];
  ready: boolean;
  problems: DatasetIssue[];
}

const HISTOGRAM_BUCKETS = [64, 128, 256, 512, 1024, 2048];
const MAX_DUPLICATE_GROUPS = 50;
/** The difference hash of a flat picture: says nothing about content, so never a duplicate by itself. */
const FLAT_HASH = '0'.repeat(16);

function sizeStats(values: number[]): SizeStats | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/** Everything worth knowing about a dataset before training it, and whether training can start. Pure. */
export function analyzeDataset(
  project: { type: ProjectType; labels: readonly (LabelView & { negative?: boolean })[] },
  images: readonly ImageView[],
): DatasetAnalysis {
  const detection = project.type === 'detection';
  const labels = project.labels.map(({ id, name }) => ({ id, name }));
  const negative = new Set(project.labels.filter((label) => label.negative).map((label) => label.id));
  const known = new Set(labels.map((label) => label.id));
  const usedLabels = (image: ImageView) => {
    const used = new Set<string>();
    if (image.labelId && known.has(image.labelId)) used.add(image.labelId);
    for (const labelId of image.labelSet) if (known.has(labelId)) used.add(labelId);
    for (const region of image.regions) if (known.has(region.labelId)) used.add(region.labelId);
    return used;
  };
  const isLabeled = (image: ImageView) => usedLabels(image).size > 0;
  const inTraining = (image: ImageView) => image.included && image.split === 'train';

  const perLabel: LabelCount[] = labels.map((label) => {
    const using = images.filter((image) => usedLabels(image).has(label.id));
    const entry: LabelCount = { label, count: using.length, trainCount: using.filter(inTraining).length };
    if (detection) {
      const boxesIn = (list: readonly ImageView[]) =>
        list.reduce((sum, image) => sum + image.regions.filter((region) => region.labelId === label.id).length, 0);
      entry.boxes = boxesIn(using);
      entry.trainBoxes = boxesIn(using.filter(inTraining));
    }
    return entry;
  });

  const labeledCount = images.filter(isLabeled).length;
  const unlabeledCount = images.length - labeledCount;
  const splits = { train: 0, validation: 0, test: 0 };
  const formats: Record<string, number> = {};
  const histogram = [...HISTOGRAM_BUCKETS, null].map((upTo) => ({ upTo, count: 0 }));
  for (const image of images) {
    splits[image.split] += 1;
    formats[image.format] = (formats[image.format] ?? 0) + 1;
    const side = Math.max(image.width, image.height);
    const bucket = HISTOGRAM_BUCKETS.findIndex((upTo) => side <= upTo);
    histogram[bucket === -1 ? HISTOGRAM_BUCKETS.length : bucket].count += 1;
  }

  const groups = new Map<string, ImageView[]>();
  for (const image of images) {
    const key = image.dhash && image.dhash !== FLAT_HASH ? `d:${image.dhash}` : `s:${image.sha256}`;
    groups.set(key, [...(groups.get(key) ?? []), image]);
  }
  const duplicateGroups = [...groups.values()].filter((group) => group.length > 1);
  const duplicates = {
    count: duplicateGroups.reduce((sum, group) => sum + group.length - 1, 0),
    groups: duplicateGroups
      .slice(0, MAX_DUPLICATE_GROUPS)
      .map((group) => ({ images: group.map(({ id, filename }) => ({ id, filename })) })),
  };

  // A classification model learns the negative label as a class once it has images (as Custom Vision's Multiclass
  // projects do), so it counts as one and needs as many as any other; otherwise it needs none and counts for nothing.
  const isClass = (entry: LabelCount) =>
    !negative.has(entry.label.id) || (project.type === 'classification' && entry.trainCount > 0);
  const classCount = perLabel.filter(isClass).length;
  const negativeNote =
    negative.size === 0
      ? ''
      : project.type === 'classification'
        ? ' (its negative label counts once it has training images)'
        : ' besides its negative label';
  const problems: DatasetIssue[] = [];
  const rules = READINESS_RULES;
  const minLabels = detection ? rules.minLabelsDetection : rules.minLabelsClassification;
  if (classCount < minLabels) {
    problems.push({
      code: 'TOO_FEW_LABELS',
      message:
        `A ${project.type} project needs at least ${minLabels} label${minLabels > 1 ? 's' : ''}` +
        `${negativeNote}; it has ${classCount}.`,
      count: classCount,
      required: minLabels,
    });
  }
  for (const entry of perLabel) {
    if (detection) {
      const boxes = entry.trainBoxes ?? 0;
      if (boxes < rules.minBoxesPerLabel) {
        problems.push({
          code: 'TOO_FEW_BOXES',
          message: `Label "${entry.label.name}" has ${boxes} box${boxes === 1 ? '' : 'es'} in included training images; it needs at least ${rules.minBoxesPerLabel}.`,
          label: entry.label,
          count: boxes,
          required: rules.minBoxesPerLabel,
        });
      }
    } else if (isClass(entry) && entry.trainCount < rules.minImagesPerLabel) {
      problems.push({
        code: 'TOO_FEW_IMAGES',
        message: `Label "${entry.label.name}" has ${entry.trainCount} included training image${entry.trainCount === 1 ? '' : 's'}; it needs at least ${rules.minImagesPerLabel}.`,
        label: entry.label,
        count: entry.trainCount,
        required: rules.minImagesPerLabel,
      });
    }
  }

  const warnings: DatasetIssue[] = [];
  const examples = perLabel
    .map((entry) => (detection ? (entry.trainBoxes ?? 0) : entry.trainCount))
    .filter((n) => n > 0);
  if (examples.length >= 2) {
    const ratio = Math.max(...examples) / Math.min(...examples);
    if (ratio > rules.imbalanceRatio) {
      const largest = perLabel.find((e) => (detection ? e.trainBoxes : e.trainCount) === Math.max(...examples))!;
      const smallest = perLabel.find((e) => (detection ? e.trainBoxes : e.trainCount) === Math.min(...examples))!;
      warnings.push({
        code: 'CLASS_IMBALANCE',
        message: `Labels are imbalanced: "${largest.label.name}" has ${Math.round(ratio * 10) / 10} times the examples of "${smallest.label.name}"; the model may favour the frequent one.`,
        count: Math.round(ratio * 100) / 100,
        required: rules.imbalanceRatio,
      });
    }
  }
  if (duplicates.count > 0) {
    warnings.push({
      code: 'DUPLICATES',
      message: `${duplicates.count} image${duplicates.count > 1 ? 's look' : ' looks'} like another image of the project (same picture, re-encoded or resized).`,
      count: duplicates.count,
    });
  }
  if (unlabeledCount > 0 && unlabeledCount >= labeledCount) {
    warnings.push({
      code: 'MANY_UNLABELED',
      message: `${unlabeledCount} of ${images.length} images have no label${detection ? ' or box' : ''}: training does not use them.`,
      count: unlabeledCount,
    });
  }

  return {
    imageCount: images.length,
    labeledCount,
    unlabeledCount,
    excludedCount: images.filter((image) => !image.included).length,
    splits,
    perLabel,
    imageSizes: {
      width: sizeStats(images.map((image) => image.width)),
      height: sizeStats(images.map((image) => image.height)),
      histogram,
    },
    formats,
    duplicates,
    warnings,
    ready: problems.length === 0,
    problems,
  };
}
