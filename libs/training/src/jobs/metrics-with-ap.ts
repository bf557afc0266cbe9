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
 * Metrics as the API answers them: a classification's average precisions are added on reading, not recorded at
 * training or testing, so iterations and test runs recorded before have them too, and the recorded metrics (which
 * reproductions compare) stay as they were. `evaluation` is the one `metrics` were computed from.
 */
export function withAveragePrecision(metrics: MetricsAtThresholds, evaluation: StoredEvaluation): MetricsWithAp {
  if (metrics.task !== 'classification') return metrics;
  if (evaluation.task !== 'classification') {
    throw new Error(`Classification metrics come from a classification's evaluation, not a ${evaluation.task}'s`);
  }
  const { expected, probabilities } = evaluation;
  const perLabel = metrics.perLabel.map((label, index) => ({
    ...label,
    ap: classificationAveragePrecision(expected, probabilities, index),
  }));
  const carried = perLabel.filter((label) => label.support > 0);
  const map = carried.length > 0 ? carried.reduce((sum, label) => sum + label.ap, 0) / carried.length : 0;
  return { ...metrics, perLabel, map };
}

/** Stored validation or test predictions' metrics at these thresholds, with a classification's average precisions. */
export function metricsWithApOf(evaluation: StoredEvaluation, options: MetricsOptions): MetricsWithAp {
  return withAveragePrecision(metricsOf(evaluation, options), evaluation);
}
