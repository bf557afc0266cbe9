import {
  type ClassificationMetrics,
  classificationMetricsAtThreshold,
  type DetectionMetrics,
  detectionMetrics,
  type DetectionValidation,
  MULTILABEL_THRESHOLD,
  multilabelMetrics,
  type MultilabelMetrics,
  type Validation,
} from '@diyml/ml/pure';

/**
 * What a model predicted for each validation image, stored as a blob beside the model, so metrics at any
 * probability threshold (and IoU threshold for detection) are computed on request without the model.
 * `imageIds` names the project image of each entry (absent from evaluations stored before it was kept).
 */
export type StoredEvaluation =
  | {
      v: 1;
      task: 'classification';
      labels: string[];
      expected: number[];
      probabilities: number[][];
      imageIds?: string[];
    }
  | {
      v: 1;
      task: 'multilabel';
      labels: string[];
      /** Per image, the indexes of the labels it carries. */
      expected: number[][];
      /** Per image, every label's independent probability. */
      probabilities: number[][];
      imageIds?: string[];
    }
  | { v: 1; task: 'detection'; labels: string[]; samples: DetectionValidation['samples']; imageIds?: string[] };

/** `exampleImageIds[i]` is the project image of the training dataset's example i. */
export function evaluationOf(validation: Validation, labels: string[], exampleImageIds: string[]): Uint8Array {
  const imageIds = validation.exampleIndexes.map((index) => exampleImageIds[index]);
  const stored: StoredEvaluation =
    validation.task === 'detection'
      ? { v: 1, task: 'detection', labels, samples: validation.samples, imageIds }
      : validation.task === 'multilabel'
        ? {
            v: 1,
            task: 'multilabel',
            labels,
            expected: validation.expected,
            probabilities: validation.probabilities,
            imageIds,
          }
        : {
            v: 1,
            task: 'classification',
            labels,
            expected: validation.expected,
            probabilities: validation.probabilities,
            imageIds,
          };
  return new TextEncoder().encode(JSON.stringify(stored));
}

export function parseEvaluation(bytes: Uint8Array): StoredEvaluation {
  return JSON.parse(new TextDecoder().decode(bytes)) as StoredEvaluation;
}

export interface MetricsOptions {
  threshold: number;
  overlapThreshold: number;
}

/** Metrics with the thresholds they were computed at, as test runs record them and the API answers them. */
export type MetricsAtThresholds =
  | ({ task: 'classification'; threshold: number } & ClassificationMetrics)
  | ({ task: 'multilabel'; threshold: number } & MultilabelMetrics)
  | ({ task: 'detection'; threshold: number; overlapThreshold: number } & DetectionMetrics);

/** Metrics in the API's shape: accuracy, precision, recall, f1, perLabel, confusionMatrix; mAP for detection. */
export function metricsOf(evaluation: StoredEvaluation, options: MetricsOptions): MetricsAtThresholds {
  if (evaluation.task === 'classification') {
    const metrics = classificationMetricsAtThreshold(
      evaluation.expected,
      evaluation.probabilities,
      evaluation.labels,
      options.threshold,
    );
    return { task: 'classification', threshold: options.threshold, ...metrics };
  }
  if (evaluation.task === 'multilabel') {
    const metrics = multilabelMetrics(
      evaluation.expected,
      evaluation.probabilities,
      evaluation.labels,
      options.threshold,
    );
    return { task: 'multilabel', threshold: options.threshold, ...metrics };
  }
  const metrics = detectionMetrics(evaluation.samples, evaluation.labels, {
    scoreThreshold: options.threshold,
    overlapThreshold: options.overlapThreshold,
  });
  return { task: 'detection', threshold: options.threshold, overlapThreshold: options.overlapThreshold, ...metrics };
}

/**
 * Metrics as training reports them: argmax for classification; MULTILABEL_THRESHOLD for multilabel; score 0.5 and
 * IoU 0.5 for detection.
 */
export const DEFAULT_METRICS_OPTIONS: Record<StoredEvaluation['task'], MetricsOptions> = {
  classification: { threshold: 0, overlapThreshold: 0.5 },
  multilabel: { threshold: MULTILABEL_THRESHOLD, overlapThreshold: 0.5 },
  detection: { threshold: 0.5, overlapThreshold: 0.5 },
};

/** A request's thresholds, with the task's defaults for those it leaves out. */
export function metricsOptionsFor(task: StoredEvaluation['task'], requested: Partial<MetricsOptions>): MetricsOptions {
  return {
    threshold: requested.threshold ?? DEFAULT_METRICS_OPTIONS[task].threshold,
    overlapThreshold: requested.overlapThreshold ?? DEFAULT_METRICS_OPTIONS[task].overlapThreshold,
  };
}
