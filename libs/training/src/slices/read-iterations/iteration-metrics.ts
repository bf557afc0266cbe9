import { classificationAveragePrecision, type ClassificationMetrics } from '@diyml/ml/pure';
import {
  type MetricsAtThresholds,
  metricsOf,
  type MetricsOptions,
  type StoredEvaluation,
} from '../../jobs/evaluation.js';

type ClassificationLabelMetrics = ClassificationMetrics['perLabel'][number];

/** A classification's metrics with each label's average precision and their mean, as multilabel and detection have. */
export type ClassificationMetricsWithAp = Omit<Extract<MetricsAtThresholds, { task: 'classification' }>, 'perLabel'> & {
  perLabel: (ClassificationLabelMetrics & { ap: number })[];
  map: number;
};

export type IterationMetrics = Exclude<MetricsAtThresholds, { task: 'classification' }> | ClassificationMetricsWithAp;

/**
 * An iteration's validation metrics at these thresholds. A classification's average precisions are computed here,
 * on reading, rather than recorded at training: iterations trained before have them too, and the recorded metrics
 * (which reproductions compare) stay as they were.
 */
export function iterationMetricsOf(evaluation: StoredEvaluation, options: MetricsOptions): IterationMetrics {
  const metrics = metricsOf(evaluation, options);
  if (metrics.task !== 'classification') return metrics;
  // metricsOf answers a classification's metrics for a classification's evaluation only.
  const { expected, probabilities } = evaluation as Extract<StoredEvaluation, { task: 'classification' }>;
  const perLabel = metrics.perLabel.map((label, index) => ({
    ...label,
    ap: classificationAveragePrecision(expected, probabilities, index),
  }));
  const carried = perLabel.filter((label) => label.support > 0);
  const map = carried.length > 0 ? carried.reduce((sum, label) => sum + label.ap, 0) / carried.length : 0;
  return { ...metrics, perLabel, map };
}
