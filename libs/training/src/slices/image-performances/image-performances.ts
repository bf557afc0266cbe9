import { DomainError } from '@diyml/core/pure';
import { predictAtThreshold } from '@diyml/ml';
import type { StoredEvaluation } from '../../jobs/evaluation.js';
import type { ManifestImage } from '../../manifest/dataset-manifest.js';

export interface PerformanceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ExpectedLabel {
  labelId: string;
  label: string;
  /** Detection: the labeled region. */
  box?: PerformanceBox;
}

export interface PredictedLabel extends ExpectedLabel {
  probability: number;
}

/** How the model did on one validation image of an iteration. */
export interface ImagePerformance {
  imageId: string;
  filename: string;
  width: number;
  height: number;
  /** Classification: the image's label; multilabel: its labels; detection: one entry per labeled region. */
  expected: ExpectedLabel[];
  /** Most probable first. Classification: every label; detection: the boxes found at or above the threshold. */
  predictions: PredictedLabel[];
  /** Classification: the most probable label at or above the threshold, or null below it. Others: null. */
  predictedLabelId: string | null;
  /**
   * Classification: whether `predictedLabelId` is the expected label. Multilabel: whether the labels at or above the
   * threshold are exactly the image's. Detection: null.
   */
  correct: boolean | null;
}

export interface ImagePerformanceFilter {
  /** Only images expected to carry one of these labels (ids or names): as their label, or in a region. */
  labels?: readonly string[];
  /** Only images predicted as this label (id or name) at the threshold, or, with 'none', predicted as nothing. */
  predicted?: string;
  threshold: number;
}

/**
 * Per-image validation results of an iteration, in validation order, from the evaluation training stored and
 * the iteration's frozen manifest (so an image removed since is still shown as it was trained on).
 * Labels are the iteration's, in model-output order.
 */
export function imagePerformancesOf(
  evaluation: StoredEvaluation,
  manifestImages: readonly ManifestImage[],
  labels: readonly { id: string; name: string }[],
  filter: ImagePerformanceFilter,
): ImagePerformance[] {
  if (!evaluation.imageIds) {
    throw DomainError.conflict(
      'IMAGE_PERFORMANCES_NOT_RECORDED',
      'This iteration was trained before per-image validation results were kept: train again (or reproduce it) to see them.',
    );
  }
  const wantedLabels = filter.labels?.length
    ? new Set(filter.labels.map((label) => labelIndexOf(labels, label, 'label')))
    : undefined;
  const wantedPrediction =
    filter.predicted === undefined
      ? undefined
      : filter.predicted === 'none'
        ? null
        : labelIndexOf(labels, filter.predicted, 'predicted');
  const images = new Map(manifestImages.map((image) => [image.id, image]));
  const named = (index: number) => ({
    labelId: labels[index]?.id ?? '',
    label: labels[index]?.name ?? evaluation.labels[index] ?? '',
  });
  const performances: ImagePerformance[] = [];

  if (evaluation.task === 'classification') {
    const predicted = predictAtThreshold(evaluation.probabilities, filter.threshold);
    evaluation.imageIds.forEach((imageId, position) => {
      const expected = evaluation.expected[position];
      if (wantedLabels && !wantedLabels.has(expected)) return;
      if (wantedPrediction !== undefined && predicted[position] !== wantedPrediction) return;
      const predictions = evaluation.probabilities[position]
        .map((probability, index) => ({ ...named(index), probability }))
        .sort((a, b) => b.probability - a.probability);
      const guess = predicted[position];
      performances.push({
        ...imageFields(images, imageId),
        expected: [named(expected)],
        predictions,
        predictedLabelId: guess === null ? null : named(guess).labelId,
        correct: guess === expected,
      });
    });
    return performances;
  }

  if (evaluation.task === 'multilabel') {
    evaluation.imageIds.forEach((imageId, position) => {
      const expected = evaluation.expected[position];
      if (wantedLabels && !expected.some((label) => wantedLabels.has(label))) return;
      const probabilities = evaluation.probabilities[position];
      const found = probabilities.flatMap((probability, index) => (probability >= filter.threshold ? [index] : []));
      if (wantedPrediction === null && found.length > 0) return;
      if (wantedPrediction !== undefined && wantedPrediction !== null && !found.includes(wantedPrediction)) return;
      performances.push({
        ...imageFields(images, imageId),
        expected: expected.map(named),
        predictions: probabilities
          .map((probability, index) => ({ ...named(index), probability }))
          .sort((a, b) => b.probability - a.probability),
        predictedLabelId: null,
        // Right when the labels at or above the threshold are exactly the image's labels.
        correct: found.length === expected.length && found.every((label) => expected.includes(label)),
      });
    });
    return performances;
  }

  evaluation.imageIds.forEach((imageId, position) => {
    const sample = evaluation.samples[position];
    if (wantedLabels && !sample.groundTruth.some((box) => wantedLabels.has(box.label))) return;
    const found = sample.detections.filter((box) => box.score >= filter.threshold);
    if (wantedPrediction === null && found.length > 0) return;
    if (
      wantedPrediction !== undefined &&
      wantedPrediction !== null &&
      !found.some((box) => box.label === wantedPrediction)
    )
      return;
    performances.push({
      ...imageFields(images, imageId),
      expected: sample.groundTruth.map(({ label, x, y, width, height }) => ({
        ...named(label),
        box: { x, y, width, height },
      })),
      predictions: found
        .map(({ label, score, x, y, width, height }) => ({
          ...named(label),
          probability: score,
          box: { x, y, width, height },
        }))
        .sort((a, b) => b.probability - a.probability),
      predictedLabelId: null,
      correct: null,
    });
  });
  return performances;
}

function imageFields(images: ReadonlyMap<string, ManifestImage>, imageId: string) {
  const image = images.get(imageId);
  return { imageId, filename: image?.filename ?? '', width: image?.width ?? 0, height: image?.height ?? 0 };
}

function labelIndexOf(labels: readonly { id: string; name: string }[], wanted: string, field: string): number {
  const index = labels.findIndex((label) => label.id === wanted.toLowerCase() || label.name === wanted);
  if (index < 0) {
    const message = `the iteration has no label "${wanted}"; it knows ${labels.map((label) => `"${label.name}"`).join(', ')}`;
    throw DomainError.validation('UNKNOWN_LABEL', `${field}: ${message}.`, [{ field, message }]);
  }
  return index;
}
