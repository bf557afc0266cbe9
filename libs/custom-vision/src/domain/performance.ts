import { metricsWithApOf, type StoredEvaluation } from '@diyml/training/pure';

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

/**
 * An iteration's performance in Custom Vision's shape, from the validation predictions training stored:
 * precision and recall at `threshold` (and, for detection, boxes matching at `overlapThreshold`), per tag
 * and macro-averaged; average precision per tag, and overall their mean over the tags some validation image carries,
 * as the iteration's metrics give it (`map`; at `overlapThreshold` for detection): a tag without validation images
 * has no AP to count (Custom Vision validates on images of every tag). Tags are named by the iteration's labels, in
 * model-output order. Standard deviations are 0: there is one validation split.
 */
export function iterationPerformance(
  evaluation: StoredEvaluation,
  labels: readonly { id: string; name: string }[],
  options: { threshold: number; overlapThreshold: number },
): CvIterationPerformance {
  const metrics = metricsWithApOf(evaluation, options);
  const perTagPerformance = evaluation.labels.map((name, index): CvTagPerformance => {
    const own = metrics.perLabel.find((entry) => entry.label === name);
    return {
      id: labels[index]?.id ?? '',
      name,
      precision: own?.precision ?? 0,
      precisionStdDeviation: 0,
      recall: own?.recall ?? 0,
      recallStdDeviation: 0,
      averagePrecision: own?.ap ?? 0,
    };
  });
  return {
    perTagPerformance,
    precision: metrics.precision,
    precisionStdDeviation: 0,
    recall: metrics.recall,
    recallStdDeviation: 0,
    averagePrecision: metrics.task === 'detection' ? metrics.mapAtOverlapThreshold : metrics.map,
  };
}
