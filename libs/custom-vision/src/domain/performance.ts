import { classificationAveragePrecision } from '@diyml/ml/pure';
import { metricsOf, type StoredEvaluation } from '@diyml/training/pure';

export interface CvTagPerformance {
  id: string;
  name: string;
  precision: number;
  precisionStdDeviation: number;
  recall: number;
  recallStdDeviation: number;
  averagePrecision: number;
}

export interface CvIterationPerformance {
  perTagPerformance: CvTagPerformance[];
  precision: number;
  precisionStdDeviation: number;
  recall: number;
  recallStdDeviation: number;
  averagePrecision: number;
}

interface PerLabel {
  label: string;
  precision: number;
  recall: number;
  ap?: number;
}

/**
 * An iteration's performance in Custom Vision's shape, from the validation predictions training stored:
 * precision and recall at `threshold` (and, for detection, boxes matching at `overlapThreshold`), per tag
 * and macro-averaged; average precision per tag and its mean (mAP for detection). Tags are named by the
 * iteration's labels, in model-output order. Standard deviations are 0: there is one validation split.
 */
export function iterationPerformance(
  evaluation: StoredEvaluation,
  labels: readonly { id: string; name: string }[],
  options: { threshold: number; overlapThreshold: number },
): CvIterationPerformance {
  const metrics = metricsOf(evaluation, options) as {
    precision: number;
    recall: number;
    perLabel: PerLabel[];
    mapAtOverlapThreshold?: number;
    map?: number;
  };
  const perTagPerformance = evaluation.labels.map((name, index): CvTagPerformance => {
    const own = metrics.perLabel.find((entry) => entry.label === name);
    const averagePrecision =
      evaluation.task === 'classification'
        ? classificationAveragePrecision(evaluation.expected, evaluation.probabilities, index)
        : (own?.ap ?? 0);
    return {
      id: labels[index]?.id ?? '',
      name,
      precision: own?.precision ?? 0,
      precisionStdDeviation: 0,
      recall: own?.recall ?? 0,
      recallStdDeviation: 0,
      averagePrecision,
    };
  });
  const meanAp = perTagPerformance.length
    ? perTagPerformance.reduce((sum, tag) => sum + tag.averagePrecision, 0) / perTagPerformance.length
    : 0;
  return {
    perTagPerformance,
    precision: metrics.precision,
    precisionStdDeviation: 0,
    recall: metrics.recall,
    recallStdDeviation: 0,
    // Multilabel: the mean AP of the tags some validation image carries, as the iteration metrics give it.
    averagePrecision:
      evaluation.task === 'detection'
        ? (metrics.mapAtOverlapThreshold ?? meanAp)
        : evaluation.task === 'multilabel'
          ? (metrics.map ?? meanAp)
          : meanAp,
  };
}
