import { classificationAveragePrecision, type ClassificationMetrics } from '@diyml/ml/pure';
import { type MetricsAtThresholds, metricsOf, type MetricsOptions, type StoredEvaluation } from './evaluation.js';

type ClassificationLabelMetrics = ClassificationMetrics['perLabel'][number];

/** A classification's metrics with each label's average precision and their mean, as multilabel and detection have. */
export type ClassificationMetricsWithAp = Omit<Extract<MetricsAtThresholds, { task: 'classification' }>, 'perLabel'> & {
  perLabel: (ClassificationLabelMetrics & { ap: number })[];
  map: number;
};

export type MetricsWithAp = Exclude<MetricsAtThresholds, { task: 'classification' }> | ClassificationMetricsWithAp;

/**
 * A classification's figures that no threshold changes: each label's average precision, in the order of the
 * metrics' `perLabel`, and their mean over the labels some image carries.
 */
export interface ClassificationAveragePrecision {
  perLabel: number[];
  map: number;
}

/** The average precisions of a classification's stored predictions; `metrics` are the ones computed from them. */
export function classificationAveragePrecisionOf(
  metrics: { perLabel: readonly { support: number }[] },
  evaluation: StoredEvaluation,
): ClassificationAveragePrecision {
  if (evaluation.task !== 'classification') {
    throw new Error(`Classification metrics come from a classification's evaluation, not a ${evaluation.task}'s`);
  }
  const { expected, probabilities } = evaluation;
  const perLabel = metrics.perLabel.map((_, index) => classificationAveragePrecision(expected, probabilities, index));
  const carried = perLabel.filter((_, index) => metrics.perLabel[index].support > 0);
  const map = carried.length > 0 ? carried.reduce((sum, ap) => sum + ap, 0) / carried.length : 0;
  return { perLabel, map };
}

/** Metrics with a classification's average precisions, computed before (see classificationAveragePrecisionOf). */
export function withClassificationAveragePrecision(
  metrics: MetricsAtThresholds,
  averagePrecision: ClassificationAveragePrecision,
): MetricsWithAp {
  if (metrics.task !== 'classification') return metrics;
  const perLabel = metrics.perLabel.map((label, index) => ({ ...label, ap: averagePrecision.perLabel[index] }));
  return { ...metrics, perLabel, map: averagePrecision.map };
}

/**
 * Metrics as the API answers them: a classification's average precisions are added to the metrics recorded at
 * training or testing, not kept in them, so iterations and test runs recorded before have them too, and the recorded
 * metrics (which reproductions compare) stay as they were. `evaluation` is the one `metrics` were computed from.
 */
export function withAveragePrecision(metrics: MetricsAtThresholds, evaluation: StoredEvaluation): MetricsWithAp {
  if (metrics.task !== 'classification') return metrics;
  return withClassificationAveragePrecision(metrics, classificationAveragePrecisionOf(metrics, evaluation));
}

/** Stored validation or test predictions' metrics at these thresholds, with a classification's average precisions. */
export function metricsWithApOf(evaluation: StoredEvaluation, options: MetricsOptions): MetricsWithAp {
  return withAveragePrecision(metricsOf(evaluation, options), evaluation);
}
